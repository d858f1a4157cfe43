// The web app in a real browser: Debian's chromium driven by playwright-core, headless.
// Usage: node run.js BASE_URL SCREENSHOT_DIR GROUP_PHOTO
// Prints one line per check ("  ok   name" / "  FAIL name: why") and the suite's summary
// line ("browser: N tests, N passed, N failed, 0 skipped"); exits 1 on any failure.
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');

const [base, shots, photo] = process.argv.slice(2);
let passed = 0, failed = 0, step = 0;

function ok(name) { console.log('  ok   ' + name); passed++; }
function bad(name, why) { console.log('  FAIL ' + name + ': ' + why); failed++; }
async function check(name, fn) {
  try { await fn(); ok(name); } catch (e) { bad(name, String(e.message || e).split('\n')[0]); }
}
async function shot(page, name) {
  step++;
  const file = path.join(shots, String(step).padStart(2, '0') + '-' + name + '.png');
  await page.screenshot({ path: file, fullPage: true, caret: 'initial' });
}
function cardNames(page) {
  return page.locator('#main ol.grid > li.card .name').allTextContents();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const cspErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  page.setDefaultTimeout(15000);
  let first = [], clicked = '';

  await check('home', async () => {
    await page.goto(base + '/');
    await page.locator('h1', { hasText: 'Who do they look like?' }).waitFor();
    await page.waitForFunction(() => window.htmx !== undefined);
    await shot(page, 'home');
  });
  await check('autocomplete_misspelled', async () => {
    await page.locator('#q').pressSequentially('kenau b', { delay: 60 });
    await page.locator('#suggest a', { hasText: 'Keanu B' }).first().waitFor();
    await shot(page, 'autocomplete');
  });
  await check('autocomplete_pick_by_keyboard', async () => {
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => document.activeElement.textContent);
    if (!/Keanu B/.test(focused)) throw new Error('ArrowDown focused "' + focused + '"');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/actor\/\d+$/);
    await page.locator('#main h1', { hasText: 'Keanu B' }).waitFor();
    if ((await page.locator('#suggest a').count()) !== 0) throw new Error('suggestions still open');
  });
  await check('results', async () => {
    await page.locator('#main li.card').first().waitFor();
    first = await cardNames(page);
    if (first[0] !== 'Keanu A') throw new Error('first card is ' + first[0]);
    await shot(page, 'results');
    // For the README: the same page with every photo masked (the test photos are
    // third-party and stay out of the repository).
    await page.screenshot({ path: path.join(shots, 'readme-results.png'), caret: 'initial',
                            mask: [page.locator('img')], maskColor: '#c9ccd6' });
  });
  await check('click_result', async () => {
    const card = page.locator('#main li.card .pick').nth(1);
    clicked = (await card.locator('.name').textContent()).trim();
    await card.click();
    await page.locator('#main h1', { hasText: clicked }).waitFor();
    if (!/\/actor\/\d+\?space=look$/.test(page.url())) throw new Error('url ' + page.url());
    await shot(page, 'clicked');
  });
  await check('back_shows_previous_results', async () => {
    await page.goBack();
    await page.locator('#main h1', { hasText: 'Keanu B' }).waitFor();
    const again = await cardNames(page);
    if (JSON.stringify(again) !== JSON.stringify(first))
      throw new Error('cards ' + again.join(', ') + ' vs ' + first.join(', '));
    await shot(page, 'back');
  });
  await check('upload_group_photo', async () => {
    await page.goto(base + '/photo');
    await page.locator('#photo-file').setInputFiles(photo);
    // The photo query runs the networks: slow under the sanitizers on a busy machine.
    await page.locator('svg rect[data-face="1"]').waitFor({ timeout: 300000 });
    if (!(await page.locator('#face-0').isVisible())) throw new Error('face 1 panel hidden');
    if (await page.locator('#face-1').isVisible()) throw new Error('face 2 panel shown first');
    await shot(page, 'photo');
  });
  await check('pick_second_face', async () => {
    await page.locator('svg rect[data-face="1"]').click({ force: true });
    await page.locator('#face-1').waitFor({ state: 'visible' });
    if (await page.locator('#face-0').isVisible()) throw new Error('face 1 panel still shown');
    const n = await page.locator('#face-1 li.card').count();
    if (n < 1) throw new Error('no look-alikes for face 2');
    const pressed = await page.locator('.facepick button[data-face="1"]').getAttribute('aria-pressed');
    if (pressed !== 'true') throw new Error('button not pressed');
    await shot(page, 'second-face');
  });
  await check('no_csp_violations', async () => {
    if (cspErrors.length) throw new Error(cspErrors[0]);
  });
  await browser.close();
}

main().catch((e) => bad('browser', String(e.message || e).split('\n')[0])).finally(() => {
  console.log(`browser: ${passed + failed} tests, ${passed} passed, ${failed} failed, 0 skipped`);
  process.exit(failed ? 1 : 0);
});
