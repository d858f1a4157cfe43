// doppel's own script (CSP script-src 'self'): keyboard navigation of the autocomplete,
// face picking on photo results, and getting a photo in by drop, paste or webcam. Every
// page works without it; htmx does the requests.
(function () {
  'use strict';

  function suggestLinks() {
    return Array.prototype.slice.call(document.querySelectorAll('#suggest a'));
  }

  // Arrow keys move between the search box and the suggestions; Escape closes them.
  document.addEventListener('keydown', function (ev) {
    var q = document.getElementById('q');
    var links = suggestLinks();
    var i = links.indexOf(document.activeElement);
    if (ev.key === 'Escape' && (ev.target === q || i >= 0)) {
      document.getElementById('suggest').innerHTML = '';
      q.focus();
      return;
    }
    if ((ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') || links.length === 0) return;
    if (ev.target !== q && i < 0) return;
    ev.preventDefault();
    if (ev.key === 'ArrowDown') (links[i + 1] || links[0]).focus();
    else if (i <= 0) q.focus();
    else links[i - 1].focus();
  });

  // A new page in <main> closes the suggestions.
  document.addEventListener('htmx:afterSwap', function (ev) {
    if (ev.detail && ev.detail.target && ev.detail.target.id === 'main') {
      var s = document.getElementById('suggest');
      if (s) s.innerHTML = '';
    }
  });

  // Picks face n of a photo result: its box, its button and its panel.
  function pickFace(n) {
    document.querySelectorAll('[data-face]').forEach(function (el) {
      var on = el.getAttribute('data-face') === n;
      if (el.tagName === 'BUTTON') el.setAttribute('aria-pressed', on ? 'true' : 'false');
      else el.classList.toggle('on', on);
    });
    document.querySelectorAll('[data-panel]').forEach(function (el) {
      el.hidden = el.getAttribute('data-panel') !== n;
    });
  }
  document.addEventListener('click', function (ev) {
    var el = ev.target.closest ? ev.target.closest('[data-face]') : null;
    if (el) pickFace(el.getAttribute('data-face'));
  });

  // Puts a file into the form's picker and sends the form.
  function sendFile(file) {
    var form = document.getElementById('photo-form');
    var input = document.getElementById('photo-file');
    if (!form || !input || !file) return;
    var dt = new DataTransfer();
    dt.items.add(file);
    input.files = dt.files;
    var cam = document.getElementById('photo-camera');
    if (cam) cam.value = '';
    form.requestSubmit();
  }

  document.addEventListener('change', function (ev) {
    if (ev.target.id === 'photo-file' || ev.target.id === 'photo-camera') {
      if (ev.target.files.length) ev.target.form.requestSubmit();
    }
  });
  document.addEventListener('dragover', function (ev) {
    var d = ev.target.closest && ev.target.closest('#drop');
    if (d) { ev.preventDefault(); d.classList.add('over'); }
  });
  document.addEventListener('dragleave', function (ev) {
    var d = ev.target.closest && ev.target.closest('#drop');
    if (d) d.classList.remove('over');
  });
  document.addEventListener('drop', function (ev) {
    var d = ev.target.closest && ev.target.closest('#drop');
    if (!d) return;
    ev.preventDefault();
    d.classList.remove('over');
    if (ev.dataTransfer.files.length) sendFile(ev.dataTransfer.files[0]);
  });
  document.addEventListener('paste', function (ev) {
    if (!document.getElementById('photo-form')) return;
    var items = ev.clipboardData ? ev.clipboardData.files : [];
    if (items.length) { ev.preventDefault(); sendFile(items[0]); }
  });

  // The webcam: first click starts it, the second takes the snapshot.
  var stream = null;
  function setupWebcam() {
    var b = document.getElementById('webcam');
    if (!b || b.dataset.ready || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
    b.dataset.ready = '1';
    b.hidden = false;
    b.addEventListener('click', function () {
      var v = document.getElementById('cam');
      if (!stream) {
        navigator.mediaDevices.getUserMedia({ video: true }).then(function (s) {
          stream = s;
          v.srcObject = s;
          v.hidden = false;
          v.play();
          b.textContent = 'Take the snapshot';
        }).catch(function () { b.textContent = 'No webcam available'; });
        return;
      }
      var c = document.createElement('canvas');
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      c.getContext('2d').drawImage(v, 0, 0);
      stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      c.toBlob(function (blob) {
        sendFile(new File([blob], 'webcam.jpg', { type: 'image/jpeg' }));
      }, 'image/jpeg', 0.9);
    });
  }
  document.addEventListener('DOMContentLoaded', setupWebcam);
  document.addEventListener('htmx:afterSettle', setupWebcam);
})();
