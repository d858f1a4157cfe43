// The reference for doppel's identity embedding: dlib's face recognition ResNet as
// face-api's faceRecognitionNet computes it, written with TensorFlow.js ops (tfjs-core,
// CPU or WebAssembly backend) from face-api's weights manifest, decoded by TFJS itself.
// doppel's tests run it on the same aligned 150 x 150 faces as the C runtime; the
// benchmark times it.
//
//   node tools/tfjs/dlib.js --manifest face_recognition_model-weights_manifest.json
//        --faces FACES.rgb --count N --out DESC.f32 [--backend cpu|wasm] [--runs R]
//        [--batch B]
//
// FACES.rgb holds N faces of 150 x 150 RGB bytes, row-major. Each is normalised as
// face-api does ((pixel - mean RGB) / 255) and run alone; DESC.f32 gets N x 128 float32
// descriptors. With --runs R it then times R runs (after one warm-up) of a batch of B
// faces (default 1; the first B faces, repeated if needed) and prints `median_ms X`.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');

const SIDE = 150;
const MEAN_RGB = [122.782, 117.001, 104.298];

function args() {
  const a = {};
  for (let i = 2; i < process.argv.length; i += 2) a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  for (const k of ['manifest', 'faces', 'count', 'out']) {
    if (!a[k]) throw new Error('missing --' + k);
  }
  return a;
}

// Every tensor of the manifest, decoded by tfjs-core (uint8 dequantisation included).
function loadWeights(manifestPath) {
  const groups = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const dir = path.dirname(manifestPath);
  const w = {};
  for (const g of groups) {
    const all = Buffer.concat(g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    const buf = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
    Object.assign(w, tf.io.decodeWeights(buf, g.weights));
  }
  return w;
}

// conv + bias, then the scale layer (x * weights + biases), then ReLU if asked.
function convLayer(w, prefix, x, stride, padding, relu) {
  let y = tf.add(tf.conv2d(x, w[prefix + '/conv/filters'], stride, padding), w[prefix + '/conv/bias']);
  y = tf.add(tf.mul(y, w[prefix + '/scale/weights']), w[prefix + '/scale/biases']);
  return relu ? tf.relu(y) : y;
}

function residual(w, name, x) {
  let y = convLayer(w, name + '/conv1', x, 1, 'same', true);
  y = convLayer(w, name + '/conv2', y, 1, 'same', false);
  return tf.relu(tf.add(y, x));
}

// Down-sampling block: the shortcut is a 2x2/2 average pool with zero channels appended
// when the width grows; a convolution path smaller than the pool gets a zero row at the
// bottom, then a zero column at the right.
function residualDown(w, name, x) {
  let y = convLayer(w, name + '/conv1', x, 2, 'valid', true);
  y = convLayer(w, name + '/conv2', y, 1, 'same', false);
  let skip = tf.avgPool(x, 2, 2, 'valid');
  if (skip.shape[1] !== y.shape[1] || skip.shape[2] !== y.shape[2]) {
    y = tf.concat([y, tf.zeros([y.shape[0], 1, y.shape[2], y.shape[3]])], 1);
    y = tf.concat([y, tf.zeros([y.shape[0], y.shape[1], 1, y.shape[3]])], 2);
  }
  if (skip.shape[3] !== y.shape[3]) skip = tf.concat([skip, tf.zeros(skip.shape)], 3);
  return tf.relu(tf.add(skip, y));
}

// faces: int32 or float tensor [B, 150, 150, 3] of pixels 0..255. Returns [B, 128].
function descriptor(w, faces) {
  return tf.tidy(() => {
    let x = tf.div(tf.sub(tf.cast(faces, 'float32'), tf.tensor1d(MEAN_RGB)), 255);
    x = convLayer(w, 'conv32_down', x, 2, 'valid', true);
    x = tf.maxPool(x, 3, 2, 'valid');
    for (const b of ['conv32_1', 'conv32_2', 'conv32_3']) x = residual(w, b, x);
    x = residualDown(w, 'conv64_down', x);
    for (const b of ['conv64_1', 'conv64_2', 'conv64_3']) x = residual(w, b, x);
    x = residualDown(w, 'conv128_down', x);
    for (const b of ['conv128_1', 'conv128_2']) x = residual(w, b, x);
    x = residualDown(w, 'conv256_down', x);
    for (const b of ['conv256_1', 'conv256_2']) x = residual(w, b, x);
    x = residualDown(w, 'conv256_down_out', x);
    return tf.matMul(tf.mean(x, [1, 2]), w.fc);
  });
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
  const w = loadWeights(a.manifest);
  const n = Number(a.count);
  const raw = fs.readFileSync(a.faces);
  const each = SIDE * SIDE * 3;
  if (raw.length < n * each) throw new Error('faces file holds fewer than ' + n + ' faces');
  const out = new Float32Array(n * 128);
  for (let i = 0; i < n; i++) {
    const px = Int32Array.from(raw.subarray(i * each, (i + 1) * each));
    const d = descriptor(w, tf.tensor4d(px, [1, SIDE, SIDE, 3], 'int32'));
    out.set(await d.data(), i * 128);
    d.dispose();
  }
  fs.writeFileSync(a.out, Buffer.from(out.buffer));
  if (a.runs) {
    const batch = Number(a.batch || 1);
    const px = new Int32Array(batch * each);
    for (let i = 0; i < batch; i++) px.set(raw.subarray((i % n) * each, (i % n + 1) * each), i * each);
    const x = tf.tensor4d(px, [batch, SIDE, SIDE, 3], 'int32');
    const times = [];
    for (let r = 0; r < Number(a.runs) + 1; r++) {
      const t0 = process.hrtime.bigint();
      const d = descriptor(w, x);
      await d.data();
      d.dispose();
      if (r > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((p, q) => p - q);
    console.log('median_ms ' + times[Math.floor(times.length / 2)].toFixed(3) + ' backend ' + tf.getBackend());
  }
}

main().catch((e) => { console.error('dlib reference: ' + e.message); process.exit(1); });
