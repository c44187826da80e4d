// The lab's browser API, written once. The Lab class (pkg/prunelab.d.ts has its types) is the
// API; this list only names which of its methods the worker may call and how, so that LabClient
// (lab-client.js) builds its methods from it and the worker (worker.js) dispatches it.
//
// Flags: `worker` calls exist only in the worker (they fetch files or swap the Lab), `static`
// ones are called on the Lab class (no Lab needed), and `changesModel` ones make the worker
// announce {type: 'model', info} afterwards.

export const METHODS = {
  // Worker-only (see worker.js):
  create: { worker: true }, //       ({backend?, keep?, measured?, threads?}) → {backend, info, drawingModel, whyOneThread}
  loadDefaultModel: { worker: true, changesModel: true }, // () → {ok, carried, error?}: models/default.plab
  loadData: { worker: true }, //     ({base?: 'data/'}, onProgress?) → DatasetInfo & {sources, cache}
  forgetData: { worker: true }, //   () → whether cached data files were deleted
  memory: { worker: true }, //       () → {bundle, wasm_bytes} & MemoryUse: the wasm memory, and the engine's use
  // Static:
  classNames: { static: true },
  drawingInput: { static: true },
  reportNumbers: { static: true },
  sweepSvg: { static: true },
  sweepCsv: { static: true },
  // Lab methods:
  backend: {},
  info: {},
  memoryUse: {},
  loadDataset: {}, // the worker also keeps the files, for the next create({keep})
  train: { changesModel: true },
  cancel: {},
  evaluate: {},
  pruneWeights: { changesModel: true },
  pruneNeurons: { changesModel: true },
  weightHistogram: {},
  preview: {},
  firstLayer: {},
  fineTune: { changesModel: true },
  sweep: {},
  sensitivity: { changesModel: true }, // LabInfo.sensitivity_images changes
  reset: { changesModel: true },
  compact: { changesModel: true },
  classify: {},
  classifyDrawing: {},
  testImage: {},
  testLabels: {},
  sampleImages: {},
  misclassified: {},
  cellImages: {},
  cost: {},
  exportModel: {},
  importModel: { changesModel: true },
  setDrawingModel: {},
  saveState: {},
  restoreState: { changesModel: true },
  panicForTest: {}, // panics in the engine: tests of the crash recovery (LabClient)
};

/**
 * Error kinds raised outside the Lab (the Lab's own, such as 'busy', 'data' or 'bad_sparsity',
 * are listed in src/web/js.rs): the worker could not start or load the wasm bundle ('worker'), no
 * Lab was created yet ('no_lab'), a method not in METHODS ('unknown_method'), a data file could
 * not be downloaded ('download', with `file`) or differs from data/manifest.json ('bad_download',
 * with `file`), the worker stopped during the call and LabClient restarted it ('crashed'), the
 * client was terminated ('closed').
 */
export const KINDS = ['worker', 'no_lab', 'unknown_method', 'download', 'bad_download', 'crashed', 'closed'];

/** A JS Error with the Lab's `kind` (and `file` for data errors). */
export function labError(message, kind = 'internal', file) {
  const e = new Error(message);
  e.kind = kind;
  if (file) e.file = file;
  return e;
}

/** What crosses postMessage for an error: Errors lose their own fields when cloned. */
export function errorToWire(e) {
  if (e instanceof Error) return { message: e.message || String(e), kind: e.kind ?? 'internal', file: e.file };
  return { message: typeof e === 'string' ? e : String(e), kind: 'internal' };
}

export const errorFromWire = (w) => labError(w.message, w.kind, w.file);

/** A function argument travels as this placeholder; the worker calls back with its index. */
export const callbackPlaceholder = (index) => ({ labCallback: index });
export const isCallback = (a) => a !== null && typeof a === 'object' && Number.isInteger(a.labCallback) && Object.keys(a).length === 1;

/**
 * Prepares a value for postMessage and lists the buffers to transfer. Typed arrays that share
 * their buffer (a view into wasm memory, a subarray) are copied, since cloning a view clones its
 * whole buffer. For call arguments (`args`) every typed array is copied, so the caller's own
 * arrays stay usable, and plain objects lose their undefined and null fields: the Lab refuses a
 * field that is present but empty.
 */
export function pack(value, { args = false } = {}) {
  const transfer = [];
  const walk = (v) => {
    if (ArrayBuffer.isView(v)) {
      const whole = v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
      const own = whole && !args ? v : v.slice();
      transfer.push(own.buffer);
      return own;
    }
    if (Array.isArray(v)) return v.some((x) => x !== null && typeof x === 'object') ? v.map(walk) : v;
    if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const entries = Object.entries(v).filter(([, x]) => !args || x != null);
      return Object.fromEntries(entries.map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  const packed = walk(value);
  return { value: packed, transfer: [...new Set(transfer)] };
}
