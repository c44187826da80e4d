// The page-side handle on Prune Lab's worker (worker.js): each call posts a message and returns
// a Promise; progress goes to an optional callback. A course page can use it on its own:
//
//   import { LabClient } from './lab-client.js';
//   const lab = new LabClient();
//   await lab.create({ backend: 'cpu' });
//   const probs = await lab.classify(new Float32Array(784));

export class LabClient {
  /** @param {URL|string} workerUrl the worker module (defaults to worker.js beside this file) */
  constructor(workerUrl = new URL('./worker.js', import.meta.url)) {
    this.worker = new Worker(workerUrl, { type: 'module' });
    this.nextId = 1;
    this.pending = new Map(); // id → {resolve, reject, onProgress}
    this.listeners = new Map(); // event type → Set of callbacks
    this.worker.onmessage = ({ data }) => this.receive(data);
    // A worker that fails to start (e.g. www/pkg/ not built) fails every call.
    this.worker.onerror = (e) => {
      e.preventDefault?.();
      const error = new Error(`the lab's worker failed: ${e.message || 'could not load worker.js or the wasm bundle in pkg/ (run bash scripts/build-web.sh)'}`);
      this.failed = error;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      this.emit('fatal', { error: error.message });
    };
  }

  receive(msg) {
    const p = msg.id != null ? this.pending.get(msg.id) : undefined;
    if (msg.type === 'progress') {
      try {
        p?.onProgress?.(msg.payload);
      } catch (e) {
        console.error('progress callback failed', e);
      }
    } else if (msg.type === 'result' && p) {
      this.pending.delete(msg.id);
      p.resolve(msg.result);
    } else if (msg.type === 'error' && p) {
      this.pending.delete(msg.id);
      p.reject(new Error(msg.error));
    } else {
      this.emit(msg.type, msg);
    }
  }

  /** Listens to unsolicited worker events ('data-progress', 'model', 'fatal'). */
  on(type, callback) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(callback);
    return () => this.listeners.get(type).delete(callback);
  }

  emit(type, msg) {
    for (const cb of this.listeners.get(type) ?? []) cb(msg);
  }

  /** Sends one call; `transfer` lists buffers to move to the worker. */
  call(type, payload, { onProgress, transfer = [] } = {}) {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, type, payload }, transfer);
    });
  }

  create(options = {}) { return this.call('create', options); }
  loadData(options = {}, onProgress) { return this.call('loadData', options, { onProgress }); }
  train(options, onProgress) { return this.call('train', options, { onProgress }); }
  cancel() { return this.call('cancel'); }
  evaluate() { return this.call('evaluate'); }
  pruneWeights(sparsity, options = {}) { return this.call('pruneWeights', { sparsity, ...options }); }
  pruneNeurons(sparsity, options = {}) { return this.call('pruneNeurons', { sparsity, ...options }); }
  fineTune(epochs, options = {}, onProgress) { return this.call('fineTune', { epochs, ...options }, { onProgress }); }
  /** onPoint(point) hears each sweep point; onProgress hears fine-tuning batches. */
  sweep(options = {}, onPoint, onProgress) {
    return this.call('sweep', options, { onProgress: (p) => (p.type === 'point' ? onPoint?.(p) : onProgress?.(p)) });
  }
  reset() { return this.call('reset'); }
  compact() { return this.call('compact'); }
  /** pixels: 784 values in [0, 1]; resolves to a Float32Array of 10 probabilities. */
  classify(pixels) {
    const copy = Float32Array.from(pixels);
    return this.call('classify', { pixels: copy }, { transfer: [copy.buffer] });
  }
  testImage(index) { return this.call('testImage', { index }); }
  sampleImages(perClass = 3) { return this.call('sampleImages', { perClass }); }
  misclassified(predictions, max = 16) { return this.call('misclassified', { predictions, max }); }
  exportModel(f16 = false) { return this.call('exportModel', { f16 }); }
  importModel(bytes) {
    const copy = bytes.slice();
    return this.call('importModel', { bytes: copy }, { transfer: [copy.buffer] });
  }
  info() { return this.call('info'); }
  reportNumbers() { return this.call('reportNumbers'); }
  classNames() { return this.call('classNames'); }

  terminate() {
    this.worker.terminate();
    const error = new Error('the lab was closed');
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
