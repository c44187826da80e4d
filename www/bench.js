// Prune Lab's bench page: what `auto` chose and why (with the speeds it timed), then for each
// backend ("cpu" on every core the page may use, "cpu_one_thread" on the single-threaded bundle,
// "webgpu" when a Lab can be created on it) measures MLP and CNN training
// speed with the device reads, WebGPU submissions and maps per step, classify latency, the live
// preview's latency and, on the CPU, the full 10-point two-method MLP sweep on the default
// model; plus the wasm bundles' sizes. The result is one JSON object in
// <pre id="bench-result"> (data-done="1" when finished) and on the console.

import { LabClient } from './lab-client.js';

const status = (text) => {
  document.getElementById('bench-status').textContent = text;
  console.info(`bench: ${text}`);
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** The bundles' sizes: what each costs to download (gzipped) and to hold (raw). */
async function wasmSize() {
  const out = {};
  for (const dir of ['pkg', 'pkg-webgpu', 'pkg-threads']) {
    const response = await fetch(new URL(`${dir}/prunelab_bg.wasm`, import.meta.url));
    if (!response.ok) {
      out[dir] = { error: `HTTP ${response.status}` };
      continue;
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    // What the worker downloads is the bundle's own .gz (gzip -9); a host that un-gzips it on
    // the way, or a folder without it, gets the browser's gzip of the raw file instead.
    const file = await fetch(new URL(`${dir}/prunelab_bg.wasm.gz`, import.meta.url)).then((r) => (r.ok ? r.arrayBuffer() : null)).catch(() => null);
    const gzipped = file && new Uint8Array(file, 0, 2).join() === '31,139' ? file : await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
    out[dir] = { bytes: bytes.length, gzip_bytes: gzipped.byteLength };
  }
  return out;
}

/**
 * One epoch on `limit` images, after a short warm-up run: samples/s, and per training step the
 * reads of device data (the engine's count) and the WebGPU submissions and maps (the worker's).
 * The calls are counted from the first progress burst to the epoch's end, so that shader
 * compilation in the first batches is left out. Asks for two epochs and cancels once the
 * first one's summary arrives: a cancelled run skips the test-set evaluation, which is not
 * what is measured here (and takes minutes on a software WebGPU adapter).
 */
async function epochSpeed(lab, model, limit) {
  let first = null; // {batch, calls}: the last batch of the first progress burst
  let batches = 1;
  let perStep = null;
  const r = await lab.train({ model, epochs: 2, limit }, (p, calls) => {
    if (p.type === 'batch') batches = p.batches;
    if (p.type === 'batch' && p.epoch === 1 && (!first || first.calls.submits === calls.submits && first.calls.maps === calls.maps)) {
      first = { batch: p.batch, calls };
    }
    if (p.type === 'epoch') {
      const steps = Math.max(1, batches - (first?.batch ?? 0));
      perStep = {
        read_backs: round(p.read_backs / batches, 3),
        gpu_submits: first ? round((calls.submits - first.calls.submits) / steps, 2) : null,
        gpu_maps: first ? round((calls.maps - first.calls.maps) / steps, 3) : null,
      };
      lab.cancel();
    }
  });
  if (!r.epochs.length) throw new Error(`${model} training stopped before its first epoch ended`);
  return { samples_per_sec: r.epochs[0].samples_per_sec, per_step: perStep };
}

/**
 * samples/s and the device calls per step of `model`, at its default batch size, after a
 * warm-up on `warm` images. The browser compiles the engine's hot code for speed in the
 * background during the first seconds of training; with every core training (the threaded
 * bundle) that compiler waits for a core, so a short run measures code not yet optimised
 * (README, Threads in the page: 2,048 images right after start ran at three quarters of the
 * speed reached a few seconds later).
 */
async function trainSpeed(lab, model, limit, warm = Math.max(64, limit / 8)) {
  status(`${model}: warm-up`);
  await epochSpeed(lab, model, warm);
  status(`${model}: training ${limit} images`);
  const { samples_per_sec, per_step } = await epochSpeed(lab, model, limit);
  return { samples_per_sec: round(samples_per_sec, 1), per_step };
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

/** Everything above on `backend`, with the CPU bundle on `threads` (worker.js's create option). */
async function benchBackend(backend, threads = 'auto') {
  const lab = new LabClient();
  const out = {};
  try {
    status(`${backend}: creating the lab`);
    const created = await lab.create({ backend, keep: false, threads });
    out.backend = created.backend;
    out.why_one_thread = created.whyOneThread;
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
      // One-shot pruning with reconstruction on the engine's default calibration set (1,024 training
      // images): the engine's own figure for choosing, compensating and applying the mask.
      out.reconstruct_ms = {};
      for (const [method, k] of [['weight', 90], ['neuron', 70]]) {
        status(`${backend}: ${method} pruning at ${k} % with reconstruction`);
        const r = await (method === 'weight' ? lab.pruneWeights(k, { reconstruct: true }) : lab.pruneNeurons(k, { reconstruct: true }));
        out.reconstruct_ms[`${method}_${k}`] = round(r.prune_ms, 0);
      }
      await lab.reset();
    }
    // On the CPU, a few seconds of each: warmed up as long as measured. (A software WebGPU
    // adapter takes minutes for that; its calls per step are what is counted there.)
    const cpu = backend === 'cpu';
    const mlp = await trainSpeed(lab, 'mlp', cpu ? 8192 : 2048, cpu ? 8192 : undefined);
    out.mlp_train_samples_per_sec = mlp.samples_per_sec;
    out.mlp_train_per_step = mlp.per_step;
    // 1,536 on WebGPU: two progress bursts, the calls per step counted in the second.
    const cnn = await trainSpeed(lab, 'cnn', cpu ? 4096 : 1536, cpu ? 4096 : undefined);
    out.cnn_train_samples_per_sec = cnn.samples_per_sec;
    out.cnn_train_per_step = cnn.per_step;
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
  result.cross_origin_isolated = self.crossOriginIsolated;
  result.cores = navigator.hardwareConcurrency;
  result.backends.cpu = await benchBackend('cpu');
  // The single-threaded bundle too, when the first run had threads: the figure they beat.
  if (result.backends.cpu.backend?.threads > 1) result.backends.cpu_one_thread = await benchBackend('cpu', 1);
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
