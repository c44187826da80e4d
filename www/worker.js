// Prune Lab's Web Worker: owns the wasm Lab so that training never blocks the page. Start it as
// a module worker (new Worker('worker.js', {type: 'module'})), or use LabClient (lab-client.js).
//
// Protocol (structured clone; typed arrays in results and arguments are transferred):
//   page → worker  {id, method, args}   a method named in api.js's METHODS, with its argument
//                  list; a function argument is sent as {labCallback: <its index>}
//   worker → page  {id, type: 'progress', arg, value, gpuCalls}   the function argument at
//                      index `arg` was called with `value` (training batches, sweep points, file
//                      bytes); gpuCalls: the WebGPU submissions and maps made so far
//                  {id, type: 'result', value}          the call resolved (or returned)
//                  {id, type: 'error', error: {message, kind, file?}}   it failed; the Lab is
//                      unchanged. `kind` is the Lab's error kind, or one of api.js's KINDS
//                  {type: 'model', info}   unsolicited: the model in use changed (info()); sent
//                      before the result of the call that changed it
//                  {type: 'note', text}    unsolicited: something the visitor should know (a
//                      misconfigured host)
//                  {type: 'model', info, state}: `state` is saveState()'s bytes (null without a
//                      model): the page keeps the last good model to restart with
//                  {type: 'crashed', reason, backend?}   unsolicited: the worker cannot go on (the
//                      wasm trapped: a panic, out of memory; or the GPU device was lost, then
//                      backend 'cpu'); it answers nothing more, and LabClient starts a new one
//   page → worker  {panicChannel: name}   the engine posts a panic on one of the threaded
//                  bundle's pool threads on BroadcastChannel `name` (src/web/js.rs)
//   page → worker  {hold: name}   the worker holds the Web Lock `name` until it ends, and
//                  answers {type: 'holding', lock: name}: how LabClient learns of its death
// Every Lab method runs as a call of the same name (instance, or static on the class); the
// worker-only calls are create, loadDefaultModel, loadData, forgetData and memory (below), and loadDataset also keeps the files for
// the next create. Calls run as they arrive, not queued: the Lab refuses a second long call
// with a 'busy' error, and cancel and classify act at once.

import { METHODS, errorToWire, isCallback, labError, pack } from './api.js';
import { fetchDataset, forgetCachedData } from './data.js';

/**
 * The wasm bundles (scripts/build-web.sh): a CPU one, which every visitor loads, and the WebGPU
 * one (burn-wgpu too, twice the bytes), loaded only when a create needs it (Lab.needsWebgpu).
 * The CPU one is `threads` (flex's kernels on a pool of Web Workers, one per core) where the
 * page may share memory, else `cpu` (one thread): cpuBundle(). A Lab moves between bundles as
 * bytes (saveState/restoreState).
 */
const BUNDLES = { cpu: 'pkg/', threads: 'pkg-threads/', webgpu: 'pkg-webgpu/' };
const DEFAULT_MODEL = new URL('models/default.plab', import.meta.url);
const DRAWING_MODEL = new URL('models/drawings.plab', import.meta.url);

const modules = {}; // bundle name → the promise of its started JS module (bundle())
const memories = {}; // bundle name → its WebAssembly.Memory (memory())
let lab = null;
let labBundle = null; // the bundle `lab` comes from
let dataset = null; // the files of the last dataset that loaded, for a recreated Lab
let drawingModel = null; // the bytes of models/drawings.plab, fetched once

/**
 * WebGPU calls the worker has made: queue submissions and buffer maps (each map is a read-back
 * that waits for the GPU). Sent with every progress message, so the bench page can count them
 * per training step; cheap enough to count always.
 */
const gpuCalls = { submits: 0, maps: 0 };
function countCalls(proto, method, counter) {
  const original = proto?.[method];
  if (typeof original !== 'function') return;
  proto[method] = function (...args) {
    gpuCalls[counter] += 1;
    return original.apply(this, args);
  };
}
countCalls(self.GPUQueue?.prototype, 'submit', 'submits');
countCalls(self.GPUBuffer?.prototype, 'mapAsync', 'maps');

/**
 * Why this worker had to give up (crash()), once: a trap leaves the wasm instance unusable, and
 * a lost GPU device every WebGPU tensor on it.
 */
let crashed = null;
let lastPanic = null; // the engine's last panic message (a trap itself only says "unreachable")
self.labPanicked = (message) => {
  lastPanic = message;
};
let gpuLost = null; // a lost device while the Lab was on the CPU bundle: WebGPU needs a new worker

/** Tells the page that this worker cannot go on, and stops answering: LabClient starts a new one. */
function crash(reason, { backend } = {}) {
  if (crashed) return;
  crashed = reason;
  post({ type: 'crashed', reason, backend });
  self.close();
}

const trapped = (e) => e instanceof WebAssembly.RuntimeError;
const trapReason = (e) => (lastPanic ? `the engine panicked: ${lastPanic.replace(/^panicked at [^\n]*\n/, '')}` : `WebAssembly stopped with "${e.message}" (a bug, or out of memory)`);
// A trap inside a running Promise (training, a sweep) throws out of the wasm task queue, not to
// the call that started it: as an uncaught error or an unhandled rejection.
for (const [type, thrown] of [['error', (e) => e.error], ['unhandledrejection', (e) => e.reason]]) {
  self.addEventListener(type, (e) => {
    if (!trapped(thrown(e))) return;
    e.preventDefault();
    crash(trapReason(thrown(e)));
  });
}

/**
 * The GPU devices the WebGPU bundle asked for (burn-wgpu keeps one), watched for loss: a driver
 * reset, a removed GPU, or device.destroy() in a test (self.prunelab.devices).
 */
const devices = new Set();
self.prunelab = { devices };
const requestDevice = self.GPUAdapter?.prototype.requestDevice;
if (requestDevice) {
  self.GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    devices.add(device);
    device.lost.then((info) => {
      devices.delete(device);
      const why = `the GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''})`;
      if (labBundle === 'webgpu') crash(why, { backend: 'cpu' });
      else gpuLost = why;
    });
    return device;
  };
}

function post(message) {
  const { value, transfer } = pack(message);
  self.postMessage(value, transfer);
}

const isWasm = (b) => b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d; // \0asm

/**
 * Fetches and starts the bundle in `dir`: its prunelab_bg.wasm.gz, un-gzipped here, so the
 * download is a quarter of the bundle on any host; the plain .wasm where the browser has no
 * DecompressionStream. Says what a misconfigured host did: a missing file or an HTML page in
 * its place is an error; a .wasm of the wrong Content-Type only a note (it still runs, but is
 * not compiled while it downloads).
 */
async function startWasm(init, dir) {
  const folder = dir.replace(/\/$/, '');
  const fail = (file, why) => labError(`the wasm bundle (${folder}/${file}) ${why}`, 'worker');
  const get = async (file) => {
    try {
      return { file, response: await fetch(new URL(`${dir}${file}`, import.meta.url)) };
    } catch (e) {
      throw fail(file, `could not be downloaded (${e.message})`);
    }
  };
  let { file, response } = await get(typeof DecompressionStream === 'function' ? 'prunelab_bg.wasm.gz' : 'prunelab_bg.wasm');
  if (response.status === 404 && file.endsWith('.gz')) ({ file, response } = await get('prunelab_bg.wasm')); // built before .gz
  if (!response.ok) throw fail(file, `is missing (HTTP ${response.status}): build it with bash scripts/build-web.sh`);
  const type = (response.headers.get('Content-Type') ?? '').split(';')[0].trim();
  if (file.endsWith('.wasm') && type === 'application/wasm') return init({ module_or_path: response });
  let bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    bytes = new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  } // else a host that un-gzipped it on the way (Content-Encoding: gzip): the bytes are the wasm
  if (!isWasm(bytes)) throw fail(file, `is not WebAssembly: the server sent ${type || 'a file without a type'} in its place`);
  if (file.endsWith('.wasm')) {
    post({ type: 'note', text: `This site serves .wasm files as "${type || 'no type'}" instead of application/wasm: the lab works, but starts slower. Its host should send application/wasm.` });
  }
  return init({ module_or_path: bytes });
}

/**
 * The started JS module of bundle `name` (its Lab class), loaded once; a failure is retried next
 * time. The threaded bundle starts its pool of `poolSize` workers before anything else runs.
 */
function bundle(name) {
  modules[name] ??= (async () => {
    const dir = BUNDLES[name];
    let glue;
    try {
      glue = await import(`./${dir}prunelab.js`);
    } catch (e) {
      throw labError(`the wasm bundle (${dir}prunelab.js) could not start: ${e.message ?? e}. Build it with bash scripts/build-web.sh`, 'worker');
    }
    memories[name] = (await startWasm(glue.default, dir)).memory;
    if (name === 'threads') await glue.initThreadPool(poolSize);
    return glue;
  })().catch((e) => {
    delete modules[name];
    throw e.kind ? e : labError(`the wasm bundle (${BUNDLES[name]}) could not start: ${e.message ?? e}`, 'worker');
  });
  return modules[name];
}

let poolSize = 1; // the threaded bundle's pool workers (one thread fewer than it runs on), set by cpuBundle()
let cpuName = null; // the CPU bundle this worker settled on (cpuBundle())

/**
 * Why this page cannot run the threaded bundle (null: it can). Threads share the wasm memory,
 * which browsers allow only in a cross-origin isolated page (served with COOP and COEP).
 */
function noThreads(threads) {
  const cores = navigator.hardwareConcurrency ?? 1;
  if (threads === 1) return 'one thread was asked for';
  if (threads === 'auto' && cores <= 1) return 'this machine shows one core';
  if (!self.crossOriginIsolated) return 'the page is not cross-origin isolated (its host sends no COOP/COEP headers)';
  return null;
}

/**
 * The CPU bundle, chosen once per worker: `threads` on every core (or `threads` of them) when
 * noThreads() allows, else `cpu`. A threaded bundle that fails to start falls back to `cpu`,
 * with a note. Resolves to {name, glue, why}: `why` says why there is one thread.
 */
async function cpuBundle(threads = 'auto') {
  if (cpuName) return { name: cpuName, glue: await bundle(cpuName), why: cpuName === 'cpu' ? noThreads(threads) ?? 'the threaded bundle did not start' : null };
  let why = noThreads(threads);
  if (!why) {
    // A pool thread for every core but one: the Lab's own thread (this worker) takes a share of
    // each product too (src/model/flex.rs, `each`).
    poolSize = (threads === 'auto' ? navigator.hardwareConcurrency : threads) - 1;
    try {
      const glue = await bundle('threads');
      cpuName = 'threads';
      return { name: cpuName, glue, why };
    } catch (e) {
      why = `the threaded bundle did not start (${e.message})`;
      post({ type: 'note', text: `The multi-threaded part of the lab did not start (${e.message}): it runs on one core.` });
    }
  }
  cpuName = 'cpu';
  return { name: cpuName, glue: await bundle('cpu'), why };
}

function needLab() {
  if (!lab) throw labError('the lab is not created yet: call create first', 'no_lab');
  return lab;
}

/** Imports models/default.plab; a failure is reported, not thrown: the lab works without it. */
async function importDefault(target) {
  try {
    const response = await fetch(DEFAULT_MODEL);
    if (!response.ok) throw new Error(`models/default.plab is missing (HTTP ${response.status})`);
    target.importModel(new Uint8Array(await response.arrayBuffer()));
    return { ok: true, carried: false };
  } catch (e) {
    return { ok: false, carried: false, error: `No default model: ${e.message}. Train a model or load a .plab file.`, kind: e.kind };
  }
}

/**
 * Sets models/drawings.plab as the Lab's drawing model (the pad's default classifier). A
 * failure is reported, not thrown: the pad then uses the model in use.
 */
async function setDrawingModel(target) {
  try {
    if (!drawingModel) {
      const response = await fetch(DRAWING_MODEL);
      if (!response.ok) throw new Error(`models/drawings.plab is missing (HTTP ${response.status})`);
      drawingModel = new Uint8Array(await response.arrayBuffer());
    }
    return { ok: true, info: target.setDrawingModel(drawingModel) };
  } catch (e) {
    return { ok: false, error: `No drawing model: ${e.message}. The pad uses the model in use.`, kind: e.kind };
  }
}

/**
 * A new Lab on `backend`, with the pad's drawing model (`measured`: auto's figures from an
 * earlier visit, BackendInfo.speeds, so that it need not time the backends again). With `keep` (the default) and a Lab
 * already there, the new one gets the old one's whole state (dense weights, pruning,
 * compaction: saveState/restoreState, so `reset` still finds the dense model) and its dataset.
 * The default model comes after, from loadDefaultModel: the pad works before its 4.8 MB arrive.
 */
async function create({ backend = 'auto', keep = true, measured, threads = 'auto' } = {}) {
  const busy = lab?.info().busy;
  if (busy) throw labError(`the lab is busy ${busy}: cancel it before switching backends`, 'busy');
  if (threads !== 'auto' && !(Number.isInteger(threads) && threads >= 1)) throw labError(`threads must be 'auto' or a whole number ≥ 1, not ${JSON.stringify(threads)}`, 'options');
  const { name: cpuBundleName, glue: cpu, why: whyOneThread } = await cpuBundle(threads);
  let name = (await cpu.Lab.needsWebgpu({ backend, measured })) ? 'webgpu' : cpuBundleName;
  let { Lab } = cpu;
  if (name === 'webgpu' && gpuLost) {
    if (backend !== 'auto') throw labError(`${gpuLost}: reload the page to use WebGPU again`, 'no_webgpu');
    name = cpuBundleName;
  }
  if (name === 'webgpu') {
    try {
      ({ Lab } = await bundle('webgpu'));
    } catch (e) {
      if (backend !== 'auto') throw e;
      post({ type: 'note', text: `The WebGPU part of the lab did not load (${e.message}): the lab runs on the CPU.` });
      name = cpuBundleName;
    }
  }
  // auto on a real GPU times both backends, in the WebGPU bundle, whose CPU backend runs on one
  // thread: the CPU's figure comes from the threaded bundle when that is the CPU one here.
  const cpuSpeed = name === 'webgpu' && backend === 'auto' && !measured && cpuBundleName === 'threads' ? await cpu.Lab.cpuSpeed() : undefined;
  let next = await Lab.create({ backend, measured, cpuSpeed });
  // The threaded bundle's figure won: run there, not on this bundle's one-thread CPU backend.
  const chosen = next.backend();
  if (cpuSpeed !== undefined && chosen.backend === 'cpu' && chosen.speeds) {
    next.free();
    next = await cpu.Lab.create({ backend, measured: chosen.speeds });
    name = cpuBundleName;
  }
  try {
    const old = keep ? lab : null;
    if (old && dataset) next.loadDataset(dataset);
    if (old?.info().model) await next.restoreState(old.saveState());
    if (!old) dataset = null;
  } catch (e) {
    next.free();
    throw e;
  }
  const drawing = await setDrawingModel(next);
  lab?.free();
  lab = next;
  labBundle = name;
  return { backend: lab.backend(), info: lab.info(), drawingModel: drawing, whyOneThread };
}

/** Imports models/default.plab unless the Lab has a model already (carried from the last one). */
async function loadDefaultModel() {
  const target = needLab();
  if (target.info().model) return { ok: true, carried: true };
  return importDefault(target);
}

function loadDataset(files) {
  const info = needLab().loadDataset(files);
  dataset = files;
  return info;
}

/**
 * Loads the four .gz files from `base` (a folder URL; relative ones are taken from this worker's
 * folder, default 'data/'), from the browser's cache when it has them (data.js), with
 * onProgress({type: 'file', file, loaded, total, source}), then loadDataset. Resolves to the
 * DatasetInfo plus `sources` (file → 'cache'|'network') and `cache` (why the files could not be
 * kept for the next visit, or null).
 */
async function loadData({ base = 'data/' } = {}, onProgress) {
  needLab();
  const progress = (file, loaded, total, source) => onProgress?.({ type: 'file', file, loaded, total, source });
  const folder = new URL(base.endsWith('/') ? base : `${base}/`, import.meta.url);
  const { files, sources, cache } = await fetchDataset(folder, progress);
  return { ...loadDataset(files), sources, cache };
}

/**
 * The wasm memory of the bundle in use, with what its engine holds (Lab.memoryUse): what the
 * page's memory check reads. The memory never shrinks (a high-water mark, stepped up by a
 * fragmented heap); the engine's heap and device buffers are what a leak makes climb.
 */
function memory() {
  if (!lab) return { bundle: null, wasm_bytes: null, heap_bytes: null, device: null };
  return { bundle: labBundle, wasm_bytes: memories[labBundle].buffer.byteLength, ...lab.memoryUse() };
}

/** The worker's own calls, and the Lab methods it wraps. */
const WORKER_CALLS = { create, loadDefaultModel, loadData, loadDataset, forgetData: forgetCachedData, memory };

/** Runs one call: the worker's own, a static Lab method (of the bundle in use), or the current Lab's. */
async function run(method, args) {
  const spec = METHODS[method];
  if (!spec) throw labError(`unknown call "${method}"`, 'unknown_method');
  if (Object.hasOwn(WORKER_CALLS, method)) return WORKER_CALLS[method](...args);
  if (spec.static) return (labBundle ? await bundle(labBundle) : (await cpuBundle()).glue).Lab[method](...args);
  const l = needLab();
  return l[method](...args);
}

/** The model in use, and its bytes for a restart (one saveState: the weights are on the host). */
function modelEvent() {
  const info = lab.info();
  return { type: 'model', info, state: info.model ? lab.saveState() : null };
}

self.onmessage = async ({ data }) => {
  if (crashed) return;
  if (data?.panicChannel) return void (self.labPanicChannel = data.panicChannel);
  if (data?.hold) return navigator.locks.request(data.hold, () => (post({ type: 'holding', lock: data.hold }), new Promise(() => {})));
  const { id, method, args = [] } = data ?? {};
  try {
    const live = args.map((a, i) => (isCallback(a) ? (value) => post({ id, type: 'progress', arg: i, value, gpuCalls: { ...gpuCalls } }) : a));
    const value = await run(method, live);
    // The model event first: when the caller's promise resolves, the page already shows the
    // model its call made (messages arrive in order).
    if (METHODS[method].changesModel && lab) post(modelEvent());
    post({ id, type: 'result', value: value ?? null });
  } catch (e) {
    if (trapped(e)) return crash(trapReason(e)); // LabClient answers this call once it has restarted
    post({ id, type: 'error', error: errorToWire(e) });
  }
};
