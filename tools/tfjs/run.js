// Runs a TensorFlow.js graph model (model.json + shards from disk) on a raw float32 input
// with the real TFJS runtime, for doppel's tests (reference outputs) and benchmarks.
//
//   node tools/tfjs/run.js --model M.json --input X.f32 --shape 1,256,256,3
//        --outputs name[,name...] --out DIR [--backend cpu|wasm] [--runs N]
//
// Writes DIR/<i>.f32 (raw little-endian float32) and DIR/outputs.json (names, shapes).
// With --runs N it also times N executions and prints the median milliseconds.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const converter = require('@tensorflow/tfjs-converter');

function args() {
  const a = {};
  for (let i = 2; i < process.argv.length; i += 2) a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  for (const k of ['model', 'input', 'shape', 'outputs', 'out']) {
    if (!a[k]) throw new Error('missing --' + k);
  }
  return a;
}

function handler(modelPath) {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
      const dir = path.dirname(modelPath);
      const specs = [];
      const buffers = [];
      for (const group of json.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
        signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
}

async function main() {
  const a = args();
  if (a.backend === 'wasm') {
    require('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
  } else {
    await tf.setBackend('cpu');
  }
  await tf.ready();
  const model = await converter.loadGraphModel(handler(a.model));
  const shape = a.shape.split(',').map(Number);
  const raw = fs.readFileSync(a.input);
  const data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const x = tf.tensor(data, shape, 'float32');
  const names = a.outputs.split(',');
  let outs = model.execute(x, names);
  if (!Array.isArray(outs)) outs = [outs];
  fs.mkdirSync(a.out, { recursive: true });
  const meta = [];
  for (let i = 0; i < outs.length; i++) {
    const v = await outs[i].data();
    fs.writeFileSync(path.join(a.out, i + '.f32'), Buffer.from(new Float32Array(v).buffer));
    meta.push({ name: names[i], shape: outs[i].shape });
  }
  fs.writeFileSync(path.join(a.out, 'outputs.json'), JSON.stringify(meta));
  if (a.runs) {
    const times = [];
    for (let r = 0; r < Number(a.runs) + 1; r++) {
      const t0 = process.hrtime.bigint();
      let o = model.execute(x, names);
      if (!Array.isArray(o)) o = [o];
      for (const t of o) { await t.data(); t.dispose(); }
      if (r > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((p, q) => p - q);
    console.log('median_ms ' + times[Math.floor(times.length / 2)].toFixed(3) + ' backend ' + tf.getBackend());
  }
}

main().catch((e) => { console.error('tfjs run: ' + e.message); process.exit(1); });
