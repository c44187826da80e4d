// The page-side handle on Prune Lab's worker (worker.js). It has one method per entry of
// api.js's METHODS, with the Lab's own arguments (pkg/prunelab.d.ts), each returning a Promise;
// function arguments (onProgress, onPoint) are called back as the worker reports (with the
// WebGPU calls made so far as a second argument, {submits, maps}). A rejected
// call gives an Error with the Lab's `kind` (and `file` for data errors). A course page can use
// it on its own:
//
//   import { LabClient } from './lab-client.js';
//   const lab = new LabClient();
//   await lab.create({ backend: 'cpu' });   // worker-only: a Lab with the pad's model
//   await lab.loadDefaultModel();            // worker-only: models/default.plab
//   await lab.loadData();                    // worker-only: data/*.gz beside worker.js (or {base})
//   const r = await lab.pruneWeights(90, { scope: 'global' });
//   const verdict = await lab.classify(new Float32Array(784));   // {probabilities, class, certainty…}

import { METHODS, callbackPlaceholder, errorFromWire, labError, pack } from './api.js';

export class LabClient {
  /** @param {URL|string} workerUrl the worker module (defaults to worker.js beside this file) */
  constructor(workerUrl = new URL('./worker.js', import.meta.url)) {
    this.worker = new Worker(workerUrl, { type: 'module' });
    this.nextId = 1;
    this.pending = new Map(); // id → {resolve, reject, callbacks: Map(arg index → function)}
    this.listeners = new Map(); // event type → Set of callbacks
    this.worker.onmessage = ({ data }) => this.receive(data);
    // A worker that fails to start (e.g. a syntax error, worker.js missing) fails every call.
    this.worker.onerror = (e) => {
      e.preventDefault?.();
      this.failed = labError(`the lab's worker failed: ${e.message || 'could not load worker.js'}`, 'worker');
      this.rejectAll(this.failed);
      this.emit('fatal', { error: this.failed.message });
    };
  }

  receive(msg) {
    const p = msg.id != null ? this.pending.get(msg.id) : undefined;
    if (msg.type === 'progress') {
      try {
        p?.callbacks.get(msg.arg)?.(msg.value, msg.gpuCalls);
      } catch (e) {
        console.error('progress callback failed', e);
      }
    } else if (msg.type === 'result' && p) {
      this.pending.delete(msg.id);
      p.resolve(msg.value);
    } else if (msg.type === 'error' && p) {
      this.pending.delete(msg.id);
      p.reject(errorFromWire(msg.error));
    } else {
      this.emit(msg.type, msg);
    }
  }

  /** Listens to unsolicited events: 'model' ({info}: the model in use changed), 'fatal'. */
  on(type, callback) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(callback);
    return () => this.listeners.get(type).delete(callback);
  }

  emit(type, msg) {
    for (const cb of this.listeners.get(type) ?? []) cb(msg);
  }

  /** Calls `method` in the worker with `args`; what every generated method does. */
  call(method, args = []) {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    const callbacks = new Map();
    const sent = args.map((a, i) => (typeof a === 'function' ? (callbacks.set(i, a), callbackPlaceholder(i)) : a));
    const { value, transfer } = pack(sent, { args: true });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, callbacks });
      this.worker.postMessage({ id, method, args: value }, transfer);
    });
  }

  rejectAll(error) {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** Stops the worker; pending and later calls reject with kind 'closed'. */
  terminate() {
    this.worker.terminate();
    this.failed = labError('the lab was closed', 'closed');
    this.rejectAll(this.failed);
  }
}

for (const method of Object.keys(METHODS)) {
  if (method in LabClient.prototype) throw new Error(`api.js: ${method} would hide LabClient.${method}`);
  LabClient.prototype[method] = function (...args) {
    return this.call(method, args);
  };
}
