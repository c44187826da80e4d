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
//
// Crash recovery: the client keeps what a new worker needs to carry on (the last create's
// options, the last dataset call, and the last good model as saveState bytes, which the worker
// sends after every call that changes it). When the worker dies (a wasm trap, a lost GPU device,
// or ended by the browser), it starts a new one, replays those, then rejects the calls that
// were running with kind 'crashed' and emits 'recovered'. Calls made meanwhile wait.
// A silent death is seen through a Web Lock the worker holds for its lifetime (watch()):
// the browser grants it to the client only once the worker is gone, so a worker busy for a
// long stretch is never taken for dead. Without Web Locks (a page over plain http from another
// machine) only traps and lost devices are seen.

import { METHODS, callbackPlaceholder, errorFromWire, labError, pack } from './api.js';

/** More crashes than this within CRASH_WINDOW_MS: the lab gives up rather than loop. */
const MAX_CRASHES = 3;
const CRASH_WINDOW_MS = 120000;

export class LabClient {
  /** @param {URL|string} workerUrl the worker module (defaults to worker.js beside this file) */
  constructor(workerUrl = new URL('./worker.js', import.meta.url)) {
    this.workerUrl = workerUrl;
    this.nextId = 1;
    this.pending = new Map(); // id → {method, resolve, reject, callbacks: Map(arg index → function)}
    this.listeners = new Map(); // event type → Set of callbacks
    this.replay = { create: null, data: null, state: null }; // what a new worker is given
    this.crashes = []; // when the last crashes happened
    this.recovering = null; // the promise of a restart under way
    this.startWorker();
  }

  startWorker() {
    this.worker = new Worker(this.workerUrl, { type: 'module' });
    this.heard = false; // the worker has said something: it started
    this.worker.onmessage = ({ data }) => this.receive(data);
    this.watch(this.worker);
    this.listenForPoolPanics(this.worker);
    this.worker.onerror = (e) => {
      e.preventDefault?.();
      const why = `the lab's worker failed: ${e.message || 'could not load worker.js'}`;
      // A worker that fails to start (a syntax error, worker.js missing) fails every call; one
      // that fails later is restarted.
      if (this.heard) this.recover(why);
      else this.fail(labError(why, 'worker'));
    };
  }

  receive(msg) {
    this.heard = true;
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
    } else if (msg.type === 'crashed') {
      this.recover(msg.reason, { backend: msg.backend });
    } else if (msg.type !== 'holding') {
      if (msg.type === 'model') this.replay.state = msg.state ?? null;
      this.emit(msg.type, msg);
    }
  }

  /** Listens to unsolicited events: 'model' ({info}: the model in use changed), 'recovered', 'fatal'. */
  on(type, callback) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(callback);
    return () => this.listeners.get(type).delete(callback);
  }

  emit(type, msg) {
    for (const cb of this.listeners.get(type) ?? []) cb(msg);
  }

  /** Calls `method` in the worker with `args`; what every generated method does. */
  async call(method, args = []) {
    while (this.recovering) await this.recovering.catch(() => {});
    if (this.failed) throw this.failed;
    const value = await this.send(method, args);
    this.remember(method, args, value);
    return value;
  }

  /** Sends one call to the current worker. */
  send(method, args) {
    const id = this.nextId++;
    const callbacks = new Map();
    const sent = args.map((a, i) => (typeof a === 'function' ? (callbacks.set(i, a), callbackPlaceholder(i)) : a));
    const { value, transfer } = pack(sent, { args: true });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject, callbacks });
      this.worker.postMessage({ id, method, args: value }, transfer);
    });
  }

  /** Keeps what a restarted worker needs from a call that succeeded. */
  remember(method, args, value) {
    const options = args[0] && typeof args[0] === 'object' ? args[0] : {};
    if (method === 'create') {
      this.replay.create = { backend: options.backend ?? 'auto', measured: value?.backend?.speeds ?? options.measured };
      if (options.keep === false) Object.assign(this.replay, { data: null, state: null });
    } else if (method === 'loadData' || method === 'loadDataset') {
      this.replay.data = { method, args: [options] }; // loadDataset's files: send() sent copies
    }
  }

  /**
   * Asks `worker` to hold a Web Lock of its own until it ends, then queues for that lock: the
   * browser grants it when the worker is gone, however it went. A worker this client replaced
   * or closed itself is let go quietly.
   */
  watch(worker) {
    if (!globalThis.navigator?.locks) return;
    const name = `prunelab-worker-${crypto.randomUUID()}`;
    const holding = ({ data }) => {
      if (data?.type !== 'holding' || data.lock !== name) return;
      worker.removeEventListener('message', holding);
      // A worker that crashed said why just before it closed: let that message land first.
      const gone = () => worker === this.worker && !this.failed && this.recover("the lab's worker was stopped (by the browser, or a tool)");
      navigator.locks.request(name, () => setTimeout(gone, 250));
    };
    worker.addEventListener('message', holding);
    worker.postMessage({ hold: name });
  }

  /**
   * A panic on one of the threaded bundle's pool threads cannot reach the worker, which waits
   * for that thread: the engine posts it on a BroadcastChannel of this worker's own, and the
   * client restarts the lab as after any other panic.
   */
  listenForPoolPanics(worker) {
    this.panics?.close();
    // Only a cross-origin isolated page gets the threaded bundle.
    if (!globalThis.crossOriginIsolated || !globalThis.BroadcastChannel) return;
    const name = `prunelab-panic-${crypto.randomUUID()}`;
    this.panics = new BroadcastChannel(name);
    this.panics.onmessage = ({ data }) => {
      if (worker !== this.worker) return;
      this.recover(`the engine panicked on one of its threads: ${String(data).replace(/^panicked at [^\n]*\n/, '')}`);
    };
    worker.postMessage({ panicChannel: name });
  }

  /**
   * Replaces a dead worker: a new one gets the last create's options (`backend` instead, after a
   * lost GPU), the last good model and the dataset; then the calls that were running reject
   * with kind 'crashed', and 'recovered' tells the page what happened and what was lost.
   */
  recover(reason, { backend } = {}) {
    if (this.failed) return;
    if (this.recovering) {
      // The new worker died too, while being set up: its calls reject, and the restart fails.
      this.worker.terminate();
      this.rejectAll(labError(`the lab's worker stopped again while restarting (${reason})`, 'crashed'));
      return;
    }
    const now = performance.now();
    this.crashes = [...this.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    const interrupted = [...this.pending.values()];
    this.pending = new Map();
    this.worker.terminate();
    if (this.crashes.length > MAX_CRASHES) {
      const e = labError(`the lab stopped ${this.crashes.length} times in two minutes, the last time because ${reason}: reload the page`, 'crashed');
      for (const p of interrupted) p.reject(e);
      return this.fail(e);
    }
    this.recovering = this.restart(backend).then(
      (restored) => {
        this.recovering = null;
        const to = backend ? ` on the ${backend === 'cpu' ? 'CPU' : backend}` : '';
        const kept = restored.model ? 'the model from before it' : 'no model (there was none yet)';
        const e = labError(`The lab stopped during this call (${reason}) and restarted${to} with ${kept}; only this call's work is lost.`, 'crashed');
        for (const p of interrupted) p.reject(e);
        this.emit('recovered', { reason, backend: restored.backend, info: restored.info, lost: interrupted.map((p) => p.method), dataError: restored.dataError });
      },
      (error) => {
        this.recovering = null;
        const e = labError(`the lab stopped (${reason}) and could not restart: ${error.message}. Reload the page.`, 'crashed');
        for (const p of interrupted) p.reject(e);
        this.fail(e);
      },
    );
  }

  /** A new worker with the replayed setup; resolves to what it has. A dataset that fails to reload is reported, not fatal. */
  async restart(backend) {
    this.startWorker();
    const { create, data, state } = this.replay;
    if (!create) return { backend: null, info: null, model: false };
    const options = backend ? { backend } : create;
    const made = await this.send('create', [{ ...options, keep: false }]);
    if (backend) this.replay.create = { backend };
    let dataError = null;
    if (data) {
      try {
        await this.send(data.method, data.args);
      } catch (e) {
        dataError = `the dataset could not be loaded again (${e.message})`;
        this.replay.data = null;
      }
    }
    // The model last, so that the LabInfo it answers with counts the dataset too. A copy of the
    // bytes goes (pack); they stay here for the next restart.
    const info = state ? await this.send('restoreState', [state]) : data && !dataError ? await this.send('info', []) : made.info;
    return { backend: made.backend, info, model: Boolean(state), dataError };
  }

  fail(error) {
    this.failed = error;
    this.rejectAll(error);
    this.emit('fatal', { error: error.message });
  }

  rejectAll(error) {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** Stops the worker; pending and later calls reject with kind 'closed'. */
  terminate() {
    this.worker.terminate();
    this.panics?.close();
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
