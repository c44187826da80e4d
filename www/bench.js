// Prune Lab's bench page: what `auto` chose and why (with the speeds it timed), then for each
// backend ("cpu" always, "webgpu" when a Lab can be created on
// it) measures MLP and CNN training speed, classify latency, the live preview's latency and, on
// the CPU, the full 10-point two-method MLP sweep on the default model; plus the wasm size. The
// result is one JSON object in <pre id="bench-result"> (data-done="1" when finished) and on the console.

import { LabClient } from './lab-client.js';

const status = (text) => {
  document.getElementById('bench-status').textContent = text;
  console.info(`bench: ${text}`);
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function wasmSize() {
  const bytes = new Uint8Array(await (await fetch(new URL('pkg/prunelab_bg.wasm', import.meta.url))).arrayBuffer());
  const gz = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  const gzBytes = (await new Response(gz).arrayBuffer()).byteLength;
  return { bytes: bytes.length, gzip_bytes: gzBytes };
}

/**
 * samples/s of one epoch on `limit` images, after a short warm-up run. Asks for two epochs and
 * cancels once the first one's summary arrives: a cancelled run skips the test-set evaluation,
 * which is not what is measured here (and takes minutes on a software WebGPU adapter).
 */
async function epochSpeed(lab, model, limit) {
  const r = await lab.train({ model, epochs: 2, limit }, (p) => {
    if (p.type === 'epoch') lab.cancel();
  });
  if (!r.epochs.length) throw new Error(`${model} training stopped before its first epoch ended`);
  return r.epochs[0].samples_per_sec;
}

async function trainSpeed(lab, model, limit) {
  status(`${model}: warm-up`);
  await epochSpeed(lab, model, Math.max(64, limit / 8));
  status(`${model}: training ${limit} images`);
  return round(await epochSpeed(lab, model, limit), 1);
}

async function classifyLatency(lab) {
  const image = new Float32Array(784).map((_, i) => ((i * 7919) % 255) / 255);
  await lab.classify(image);
  const ms = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await lab.classify(image);
    ms.push(performance.now() - t);
  }
  return round(median(ms), 3);
}

/** One slider step of the live preview: 11 images (the strip and the pad), weight pruning at
 *  90 % then neuron pruning at 50 %, dense and pruned; the median of each, in ms. */
async function previewLatency(lab) {
  const images = new Float32Array(11 * 784).map((_, i) => ((i * 7919) % 255) / 255);
  const out = {};
  for (const [name, k, options] of [['weight', 90, { method: 'weight', scope: 'global' }], ['neuron', 50, { method: 'neuron' }]]) {
    await lab.preview(k, options, images);
    const ms = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await lab.preview(k + (i % 2), options, images);
      ms.push(performance.now() - t);
    }
    out[name] = round(median(ms), 1);
  }
  return out;
}

async function benchBackend(backend) {
  const lab = new LabClient();
  const out = {};
  try {
    status(`${backend}: creating the lab`);
    const created = await lab.create({ backend, keep: false });
    out.backend = created.backend;
    const defaultModel = await lab.loadDefaultModel();
    out.default_model = defaultModel;
    status(`${backend}: loading data`);
    await lab.loadData({ base: new URL('data/', location.href).href });
    out.classify_ms_median = defaultModel.ok ? await classifyLatency(lab) : null;
    out.preview_ms_median = defaultModel.ok ? await previewLatency(lab) : null;
    if (backend === 'cpu' && defaultModel.ok) {
      status(`${backend}: sweep (2 methods × 10 sparsities) on the default model`);
      const t = performance.now();
      const sweep = await lab.sweep({ methods: ['weight', 'neuron'] });
      out.mlp_sweep_seconds = round((performance.now() - t) / 1000, 2);
      out.mlp_sweep_points = sweep.points.length;
    }
    out.mlp_train_samples_per_sec = await trainSpeed(lab, 'mlp', 2048);
    out.cnn_train_samples_per_sec = await trainSpeed(lab, 'cnn', 512);
    out.available = true;
  } catch (e) {
    out.available = out.backend != null;
    out.error = e.message;
  } finally {
    lab.terminate();
  }
  return out;
}

/** What `auto` chose here, and the figures it timed (none when a rule decided: no real GPU). */
async function autoChoice() {
  const lab = new LabClient();
  try {
    status('auto: choosing a backend');
    return (await lab.create({ backend: 'auto', keep: false })).backend;
  } catch (e) {
    return { error: e.message };
  } finally {
    lab.terminate();
  }
}

async function main() {
  const start = performance.now();
  const result = { user_agent: navigator.userAgent, wasm: null, backends: {} };
  try {
    result.wasm = await wasmSize();
  } catch (e) {
    result.wasm = { error: e.message };
  }
  result.auto = await autoChoice();
  result.backends.cpu = await benchBackend('cpu');
  result.backends.webgpu = await benchBackend('webgpu');
  result.seconds = round((performance.now() - start) / 1000, 1);
  const text = JSON.stringify(result);
  const pre = document.getElementById('bench-result');
  pre.textContent = JSON.stringify(result, null, 2);
  pre.dataset.json = text;
  pre.dataset.done = '1';
  status('done');
  console.log(text);
}

main();
