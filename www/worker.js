// Prune Lab's Web Worker: owns the wasm Lab so that training never blocks the page.
// Start it as a module worker: new Worker('worker.js', {type: 'module'}).
//
// Protocol (structured-clone messages; big Uint8Array/Float32Array buffers are transferred):
//   page → worker   {id, type, payload}
//   worker → page   {id, type: 'result', result}           the call succeeded
//                   {id, type: 'error', error: '<message>'} the call failed; the Lab is unchanged
//                   {id, type: 'progress', payload}        during a call: the Lab's progress
//                       object ({type: 'batch' | 'epoch', ...}), a sweep point as
//                       {type: 'point', ...point}, or {type: 'file', file, loaded, total}
//   unsolicited     {type: 'data-progress', file, loaded, total}   while the dataset streams
//                   {type: 'model', info}                           the model in use changed
//
// Calls (type: payload → result), one per Lab method:
//   create {backend?: 'auto'|'webgpu'|'cpu', keep?: true}
//       → {backend, info, defaultModel: {ok, error?}}. Starts the wasm module on first use.
//       With keep (the default) a second create carries the dataset and the current model over
//       to the new Lab; otherwise, and the first time, it imports models/default.plab.
//   loadData {base?: 'data/'} → DatasetInfo (fetches the four files, then lab.loadDataset)
//   train TrainOptions → TrainResult            cancel → null (not queued: acts at once)
//   evaluate → Evaluation                       reset → info
//   pruneWeights {sparsity, scope?, connected?} / pruneNeurons {sparsity, variant?} → PruneResult
//   fineTune {epochs, lr?, batchSize?} → PruneResult
//   sweep SweepOptions → SweepResult            compact → CompactResult
//   classify {pixels: Float32Array(784)} → Float32Array(10)
//   testImage {index} → {pixels: Uint8Array, label, class_name}
//   sampleImages {perClass} → {indices, labels, pixels: Uint8Array}
//   misclassified {predictions, max} → [{index, label, predicted, pixels}] (first `max` errors)
//   exportModel {f16?} → Uint8Array             importModel {bytes: Uint8Array} → model info
//   info → lab.info() plus {backend_info}       reportNumbers → Lab.reportNumbers()
//   classNames → Lab.classNames()
// Calls run as they arrive (no queue): the Lab itself refuses a second long call while one
// runs, with a "busy" error, and classify keeps working meanwhile.

import init, { Lab } from './pkg/prunelab.js';
import { fetchDataset, explainDataError } from './data.js';

const DEFAULT_MODEL = new URL('models/default.plab', import.meta.url);
const DATA_BASE = new URL('data/', import.meta.url);

let wasm = null; // the init() promise
let lab = null;
let dataset = null; // the gz bytes of the last dataset that loaded, for a recreated Lab

/** A copy of an options object without its undefined fields (the Lab denies unknown ones). */
const clean = (o) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== ''));

/** Buffers that can be moved rather than copied (never a view into wasm memory). */
function transferables(value, out = []) {
  if (ArrayBuffer.isView(value)) {
    if (value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) out.push(value.buffer);
  } else if (Array.isArray(value)) {
    value.forEach((v) => transferables(v, out));
  } else if (value && typeof value === 'object') {
    Object.values(value).forEach((v) => transferables(v, out));
  }
  return out;
}

const post = (msg) => self.postMessage(msg, transferables(msg));

function needLab() {
  if (!lab) throw new Error('the lab is not created yet');
  return lab;
}

function info() {
  const l = needLab();
  return { ...l.info(), backend_info: l.backend() };
}

function modelChanged() {
  try {
    post({ type: 'model', info: info() });
  } catch {
    /* nothing to report */
  }
}

async function importDefault(target) {
  try {
    const response = await fetch(DEFAULT_MODEL);
    if (!response.ok) throw new Error(`models/default.plab is missing (HTTP ${response.status})`);
    target.importModel(new Uint8Array(await response.arrayBuffer()));
    return { ok: true };
  } catch (e) {
    return { ok: false, error: `No default model: ${e.message}. Train a model or load a .plab file.` };
  }
}

async function create({ backend = 'auto', keep = true } = {}) {
  wasm ??= init();
  await wasm;
  if (lab && lab.info().busy) throw new Error(`the lab is busy ${lab.info().busy}: cancel it before switching backends`);
  const next = await Lab.create({ backend });
  let defaultModel = { ok: true, carried: false };
  const old = keep ? lab : null;
  if (old && old.info().model) {
    next.importModel(old.exportModel(false));
    defaultModel = { ok: true, carried: true };
  } else {
    defaultModel = await importDefault(next);
  }
  if (old && dataset) next.loadDataset(dataset);
  else dataset = null;
  if (lab) lab.free();
  lab = next;
  return { backend: lab.backend(), info: info(), defaultModel };
}

async function loadData(options, progress) {
  const { base } = options ?? {};
  const l = needLab();
  const onProgress = (file, loaded, total) => {
    post({ type: 'data-progress', file, loaded, total });
    progress({ type: 'file', file, loaded, total });
  };
  const files = await fetchDataset(base ? new URL(base, DATA_BASE) : DATA_BASE, onProgress);
  try {
    const result = l.loadDataset(files);
    dataset = files;
    return result;
  } catch (e) {
    throw new Error(explainDataError(e.message ?? String(e)));
  }
}

async function misclassified({ predictions, max = 16 }) {
  const l = needLab();
  const found = [];
  for (let i = 0; i < predictions.length && found.length < max; i++) {
    const t = l.testImage(i);
    if (t.label !== predictions[i]) found.push({ index: i, label: t.label, predicted: predictions[i], pixels: Uint8Array.from(t.pixels) });
  }
  return found;
}

/** type → (payload, progress) => result. Calls that change the model in use announce it. */
const calls = {
  create,
  loadData,
  train: (o, progress) => needLab().train(clean(o), progress),
  cancel: () => (lab?.cancel(), null),
  evaluate: () => needLab().evaluate(),
  pruneWeights: (o) => needLab().pruneWeights(o?.sparsity, clean({ scope: o?.scope, connected: o?.connected })),
  pruneNeurons: (o) => needLab().pruneNeurons(o?.sparsity, clean({ variant: o?.variant })),
  fineTune: (o, progress) => {
    const { epochs = 1, ...opts } = o ?? {};
    return needLab().fineTune(epochs, clean(opts), progress);
  },
  sweep: (o, progress) => needLab().sweep(clean(o), (p) => progress({ type: 'point', ...p }), progress),
  reset: () => (needLab().reset(), info()),
  compact: () => needLab().compact(),
  classify: ({ pixels }) => needLab().classify(pixels),
  testImage: ({ index }) => {
    const t = needLab().testImage(index);
    return { ...t, pixels: Uint8Array.from(t.pixels) };
  },
  sampleImages: ({ perClass = 3 } = {}) => needLab().sampleImages(perClass),
  misclassified,
  exportModel: ({ f16 = false } = {}) => needLab().exportModel(f16),
  importModel: ({ bytes }) => needLab().importModel(bytes),
  info,
  reportNumbers: () => Lab.reportNumbers(),
  classNames: () => Lab.classNames(),
};
const CHANGES_MODEL = new Set(['create', 'train', 'pruneWeights', 'pruneNeurons', 'fineTune', 'reset', 'compact', 'importModel']);

/** Turns whatever was thrown (Error, string, JsValue) into a message a person can read. */
function message(e) {
  if (e instanceof WebAssembly.RuntimeError) return `the lab crashed inside WebAssembly (${e.message}); reload the page to start again`;
  if (e instanceof Error) return e.message || String(e);
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

self.onmessage = async ({ data }) => {
  const { id, type, payload } = data ?? {};
  const call = calls[type];
  if (!call) {
    post({ id, type: 'error', error: `unknown call "${type}"` });
    return;
  }
  if ((type === 'reportNumbers' || type === 'classNames') && !wasm) wasm = init();
  try {
    if (wasm) await wasm;
    const progress = (p) => post({ id, type: 'progress', payload: p });
    const result = await call(payload, progress);
    post({ id, type: 'result', result: result ?? null });
    if (CHANGES_MODEL.has(type) && type !== 'create') modelChanged();
  } catch (e) {
    post({ id, type: 'error', error: message(e) });
  }
};
