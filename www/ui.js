// Prune Lab's page (entry module): wires the four panels to the Lab in the worker. State that
// tests read lives in window.pruneLab.state. URL parameters: ?backend=auto|webgpu|cpu and
// ?embed=data|train|prune|draw (one panel alone, for an iframe).

import { LabClient } from './lab-client.js';
import { DATA_FILES } from './data.js';
import { TrainChart, SweepChart, drawConfusion, drawBars, drawProbabilities, drawLayers } from './charts.js';
import { DrawPad, imageCanvas, paintImage } from './draw.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const PANELS = ['data', 'train', 'prune', 'draw'];
const EMBED = PANELS.includes(params.get('embed')) ? params.get('embed') : null;
const BACKEND = ['auto', 'webgpu', 'cpu'].includes(params.get('backend')) ? params.get('backend') : 'auto';
const REPORT_SPARSITIES = [0, 25, 50, 60, 70, 80, 90, 95, 97, 99];

const int = (n) => Math.round(n).toLocaleString('en');
const pct = (x, digits = 1) => `${(x * 100).toFixed(digits)} %`;
const mb = (b) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} kB`);
const seconds = (s) => (s >= 90 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(s < 10 ? 1 : 0)} s`);

const state = {
  ready: false,
  busy: null,
  backend: null,
  classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  report: null,
  model: null,
  defaultModel: null,
  data: { status: 'idle', progress: {}, events: 0, info: null, error: null },
  train: { status: 'idle', curve: { loss: [], accuracy: [] }, result: null, error: null },
  prune: { status: 'idle', result: null, compact: null, error: null },
  sweep: { status: 'idle', points: [], counts: { weight: 0, neuron: 0 }, result: null, error: null },
  draw: { probs: null, classified: 0, source: null, error: null },
};
const client = new LabClient();
const charts = {};
window.pruneLab = { state, client, charts };

// ---- shared helpers ------------------------------------------------------------------------

function announce(text) {
  $('status').textContent = text;
}

function showError(panel, error) {
  const msg = error?.message ?? String(error);
  // Embedded, the header is hidden: its errors go to the panel on show.
  if (panel === 'header' && EMBED) panel = EMBED;
  const el = $(`${panel}-error`);
  el.textContent = msg;
  el.hidden = false;
  if (state[panel]) state[panel].error = msg;
  announce(`Error: ${msg}`);
}

function clearError(panel) {
  $(`${panel}-error`).hidden = true;
  if (state[panel]) state[panel].error = null;
}

/** One long call at a time: disables the buttons that start one, enables the right cancel. */
function setBusy(job) {
  state.busy = job;
  document.body.dataset.busy = job ?? '';
  for (const el of document.querySelectorAll('.long')) el.disabled = Boolean(job);
  $('train-cancel').disabled = job !== 'train';
  $('prune-cancel').disabled = !['sweep', 'finetune'].includes(job);
  $('backend-select').disabled = Boolean(job);
}

const JOB_TEXT = { train: 'training', sweep: 'the sweep', finetune: 'fine-tuning' };

/** Runs a long call for a panel: busy while it runs, errors shown in the panel. */
async function job(name, panel, fn) {
  if (state.busy) {
    showError(panel, `Wait for ${JOB_TEXT[state.busy] ?? state.busy} to finish (or cancel it) first.`);
    return undefined;
  }
  clearError(panel);
  setBusy(name);
  try {
    return await fn();
  } catch (e) {
    showError(panel, e);
    return undefined;
  } finally {
    setBusy(null);
  }
}

function setModel(info) {
  state.model = info;
  const m = info?.model;
  if (info?.backend_info) setBackend(info.backend_info);
  if (!m) {
    $('model-line').textContent = 'none yet: train one or load a model file';
  } else {
    const pruned = m.pruned ? `; pruned: ${m.pruned.method} ${m.pruned.sparsity} %${m.finetune_epochs ? `, fine-tuned ${m.finetune_epochs} epoch(s)` : ''}` : '';
    $('model-line').textContent = `${m.arch}, ${int(m.params)} parameters, ${int(m.nonzero_params)} non-zero${pruned}`;
  }
  if (!pad.isEmpty()) classifyNow();
}

function setBackend(b) {
  state.backend = b;
  $('backend-name').textContent = b.backend === 'webgpu' ? 'WebGPU' : 'CPU';
  $('backend-reason').textContent = `(${b.reason}${b.adapter ? `; adapter: ${b.adapter}` : ''})`;
}

// ---- data panel ----------------------------------------------------------------------------

function buildFileList() {
  const list = $('data-progress');
  for (const file of Object.values(DATA_FILES)) {
    const row = document.createElement('div');
    row.className = 'file-row';
    const id = `progress-${file.replace(/\W/g, '-')}`;
    row.innerHTML = `<label for="${id}">data/${file}</label><progress id="${id}" max="1" value="0"></progress><span class="file-bytes">waiting</span>`;
    row.dataset.file = file;
    list.append(row);
  }
}

function onDataProgress({ file, loaded, total }) {
  state.data.progress[file] = { loaded, total };
  state.data.events++;
  const row = $('data-progress').querySelector(`[data-file="${file}"]`);
  if (!row) return;
  const bar = row.querySelector('progress');
  if (total) {
    bar.max = total;
    bar.value = loaded;
  } else {
    bar.removeAttribute('value');
  }
  row.querySelector('.file-bytes').textContent = total ? `${mb(loaded)} of ${mb(total)} (${pct(loaded / total, 0)})` : mb(loaded);
}

async function loadData() {
  state.data.status = 'loading';
  $('data-retry').hidden = true;
  $('data-summary').textContent = 'Downloading Fashion-MNIST…';
  announce('Downloading Fashion-MNIST…');
  const info = await job('loading data', 'data', () => client.loadData());
  if (!info) {
    state.data.status = 'error';
    $('data-summary').textContent = 'No dataset: training, pruning and test images need it. The drawing pad still works with the model in use.';
    $('data-retry').hidden = false;
    return false;
  }
  state.data.info = info;
  $('data-summary').textContent = `${int(info.train)} training and ${int(info.test)} test images loaded.`;
  announce('Fashion-MNIST loaded.');
  try {
    await showSamples();
  } catch (e) {
    showError('data', e);
  }
  state.data.status = 'loaded';
  return true;
}

async function showSamples(perClass = 4) {
  const s = await client.sampleImages(perClass);
  const rows = state.classNames.map((name, c) => {
    const fig = document.createElement('figure');
    fig.className = 'sample-row';
    const cap = document.createElement('figcaption');
    cap.textContent = name;
    fig.append(cap);
    s.labels.forEach((label, i) => {
      if (label === c) fig.append(imageCanvas(s.pixels, i * 784, `${name}, test image ${s.indices[i]}`));
    });
    return fig;
  });
  $('samples').replaceChildren(...rows);
}

// ---- training panel ------------------------------------------------------------------------

/** A number input's value, or undefined when blank; throws when out of range. */
function numberField(id, name) {
  const el = $(id);
  if (el.value.trim() === '') return undefined;
  const v = Number(el.value);
  if (!Number.isFinite(v) || !el.checkValidity()) throw new Error(`${name}: ${el.validationMessage || 'not a valid number'}`);
  return v;
}

/** The pruning panel's fine-tune epochs (0 when empty), or null after showing why it is invalid. */
function finetuneEpochs() {
  try {
    return numberField('prune-ft', 'Fine-tune epochs') ?? 0;
  } catch (e) {
    showError('prune', e);
    return null;
  }
}

async function train(event) {
  event.preventDefault();
  let options;
  try {
    options = {
      model: $('train-model').value,
      epochs: numberField('train-epochs', 'Epochs') ?? 1,
      batchSize: numberField('train-batch', 'Batch size'),
      lr: numberField('train-lr', 'Learning rate'),
      limit: numberField('train-limit', 'Subset size'),
    };
  } catch (e) {
    showError('train', e);
    return;
  }
  const t = state.train;
  Object.assign(t, { status: 'running', curve: { loss: [], accuracy: [] }, result: null, epochs: [] });
  charts.train.reset();
  $('train-progress').value = 0;
  $('train-stats').textContent = 'Starting…';
  announce(`Training the ${options.model.toUpperCase()}…`);
  const start = performance.now();
  let lastText = 0;
  const result = await job('train', 'train', () =>
    client.train(options, (p) => {
      if (p.type === 'batch') {
        t.curve.loss.push(p.loss);
        t.curve.accuracy.push(p.accuracy);
        charts.train.add(p.loss, p.accuracy);
        const done = ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches);
        $('train-progress').value = done;
        const now = performance.now();
        if (now - lastText > 250) {
          lastText = now;
          const eta = ((now - start) / 1000) * ((1 - done) / done);
          $('train-stats').textContent = `Epoch ${p.epoch}/${p.epochs}, batch ${p.batch}/${p.batches}: loss ${p.loss.toFixed(3)}, accuracy ${pct(p.accuracy)}, ${int(p.samples_per_sec)} samples/s, about ${seconds(eta)} left`;
        }
      } else if (p.type === 'epoch') {
        t.epochs.push(p);
        announce(`Epoch ${p.epoch} done: loss ${p.loss.toFixed(3)}, accuracy ${pct(p.accuracy)}, ${int(p.samples_per_sec)} samples/s.`);
      }
    }),
  );
  charts.train.flush();
  if (!result) {
    t.status = 'error';
    $('train-stats').textContent = '';
    return;
  }
  t.result = result;
  if (result.cancelled) {
    t.status = 'cancelled';
    $('train-stats').textContent = 'Cancelled: the previous model is still in use.';
    announce('Training cancelled; nothing changed.');
    return;
  }
  const last = result.epochs.at(-1);
  $('train-progress').value = 1;
  $('train-stats').textContent = `Done in ${seconds(result.seconds)}: ${result.arch}, ${int(result.params)} parameters${last ? `, ${int(last.samples_per_sec)} samples/s in the last epoch` : ''}.`;
  await showEvaluation(result.evaluation);
  t.status = 'done';
  resetPruneView();
  announce(`Training done: test accuracy ${pct(result.evaluation?.accuracy ?? 0)}.`);
}

async function showEvaluation(ev) {
  if (!ev) return;
  $('train-results').hidden = false;
  $('train-accuracy').textContent = `Test accuracy: ${pct(ev.accuracy, 2)} (loss ${ev.loss.toFixed(3)})`;
  drawBars($('train-perclass'), ev.per_class_accuracy.map((a, i) => ({ label: state.classNames[i], value: a })));
  drawConfusion($('train-confusion'), ev.confusion, state.classNames);
  const strip = $('train-missed');
  strip.replaceChildren();
  if (!ev.predictions) return;
  try {
    const missed = await client.misclassified(ev.predictions, 16);
    strip.replaceChildren(
      ...missed.map((m) => {
        const fig = document.createElement('figure');
        const [truth, guess] = [state.classNames[m.label], state.classNames[m.predicted]];
        fig.append(imageCanvas(m.pixels, 0, `Test image ${m.index}: a ${truth}, predicted ${guess}`));
        const cap = document.createElement('figcaption');
        cap.innerHTML = '<span class="truth"></span><span class="guess"></span>';
        cap.firstChild.textContent = truth;
        cap.lastChild.textContent = `→ ${guess}`;
        fig.append(cap);
        return fig;
      }),
    );
  } catch (e) {
    showError('train', e);
  }
}

async function exportModel() {
  clearError('train');
  try {
    const bytes = await client.exportModel(false);
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'prunelab-model.plab';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    announce(`Model file ready: ${mb(bytes.length)}.`);
  } catch (e) {
    showError('train', e);
  }
}

async function importModel(event) {
  const file = event.target.files?.[0];
  if (!file) return;
  const info = await job('loading a model', 'train', async () => client.importModel(new Uint8Array(await file.arrayBuffer())));
  event.target.value = '';
  if (info) {
    resetPruneView();
    announce(`Loaded ${file.name}: ${info.arch}.`);
  }
}

// ---- pruning panel -------------------------------------------------------------------------

const method = () => document.querySelector('input[name="prune-method"]:checked').value;

function syncPruneControls() {
  const neuron = method() === 'neuron';
  $('prune-scope-label').hidden = neuron;
  $('prune-connected-label').hidden = neuron;
  $('prune-variant-label').hidden = !neuron;
  $('prune-sparsity-value').textContent = `${$('prune-sparsity').value} %`;
}

function resetPruneView() {
  $('prune-result').hidden = true;
  state.prune.result = null;
  state.prune.compact = null;
}

function term(dl, name, value) {
  const dt = document.createElement('dt');
  dt.textContent = name;
  const dd = document.createElement('dd');
  dd.textContent = value;
  dl.append(dt, dd);
}

function showPruneResult(r) {
  const dl = $('prune-numbers');
  dl.replaceChildren();
  term(dl, 'Test accuracy', r.accuracy == null ? 'no test set loaded' : pct(r.accuracy, 2));
  term(dl, 'Non-zero parameters', `${int(r.nonzero_params)} of ${int(r.total_params)} (${pct(r.nonzero_params / r.total_params)})`);
  const s = r.sparse_sizes;
  term(dl, 'Size', `dense ${mb(s.dense_bytes)}, bitmask ${mb(s.bitmask_bytes)}, CSR ${mb(s.csr_bytes)}`);
  term(dl, 'Time', `pruning ${r.prune_ms.toFixed(0)} ms, evaluation ${r.eval_ms.toFixed(0)} ms`);
  drawLayers($('prune-layers'), r.layers);
  $('prune-compact').replaceChildren();
  $('prune-result').hidden = false;
}

function showCompact(c) {
  const dl = document.createElement('dl');
  dl.className = 'numbers';
  term(dl, 'Compacted model', `${c.arch}: ${int(c.params)} parameters, ${mb(c.bytes)}`);
  term(dl, 'Dense model', `${c.dense_arch}: ${int(c.dense_params)} parameters, ${mb(c.dense_bytes)}`);
  term(dl, 'Latency per image', `${c.latency_ms.toFixed(3)} ms compacted against ${c.dense_latency_ms.toFixed(3)} ms dense (${c.speedup.toFixed(2)}× faster, ${int(c.images)} images)`);
  const h = document.createElement('h3');
  h.textContent = 'Compacted (removed units dropped; now the model in use)';
  $('prune-compact').replaceChildren(h, dl);
}

async function prune(event) {
  event.preventDefault();
  const k = Number($('prune-sparsity').value);
  const m = method();
  const ft = finetuneEpochs();
  if (ft == null) return;
  state.prune.status = 'running';
  $('prune-progress').value = 0;
  $('prune-stats').textContent = `Pruning ${k} % of the ${m === 'weight' ? 'weights' : 'neurons'}…`;
  announce($('prune-stats').textContent);
  let result = await job('pruning', 'prune', () => (m === 'weight' ? client.pruneWeights(k, { scope: $('prune-scope').value, connected: $('prune-connected').checked }) : client.pruneNeurons(k, { variant: $('prune-variant').value })));
  if (result && ft > 0) {
    showPruneResult(result);
    $('prune-stats').textContent = `Fine-tuning for ${ft} epoch(s)…`;
    const tuned = await job('finetune', 'prune', () =>
      client.fineTune(ft, {}, (p) => {
        if (p.type === 'batch') {
          $('prune-progress').value = ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches);
          $('prune-stats').textContent = `Fine-tuning: epoch ${p.epoch}/${p.epochs}, batch ${p.batch}/${p.batches}, loss ${p.loss.toFixed(3)}`;
        }
      }),
    );
    result = tuned ?? result;
  }
  if (!result) {
    state.prune.status = 'error';
    $('prune-stats').textContent = '';
    return;
  }
  state.prune.result = result;
  showPruneResult(result);
  $('prune-progress').value = 1;
  $('prune-stats').textContent = `Pruned: ${m} ${k} %${result.accuracy != null ? `, test accuracy ${pct(result.accuracy, 2)}` : ''}.`;
  if (m === 'neuron') {
    $('prune-stats').textContent += ' Compacting…';
    const c = await job('compacting', 'prune', () => client.compact());
    if (c) {
      state.prune.compact = c;
      showCompact(c);
      $('prune-stats').textContent = $('prune-stats').textContent.replace(' Compacting…', ' Compacted.');
    }
  }
  state.prune.status = 'done';
  announce($('prune-stats').textContent);
}

async function sweep() {
  const ft = finetuneEpochs();
  if (ft == null) return;
  const sw = state.sweep;
  Object.assign(sw, { status: 'running', points: [], result: null, counts: { weight: 0, neuron: 0 } });
  charts.sweep.reset();
  $('sweep-table').replaceChildren();
  $('sweep-pearson').textContent = '';
  $('prune-progress').value = 0;
  const total = REPORT_SPARSITIES.length * 2;
  $('prune-stats').textContent = `Sweeping ${total} points${ft ? ` with ${ft} fine-tuning epoch(s) each` : ''}…`;
  announce($('prune-stats').textContent);
  const options = { methods: ['weight', 'neuron'], sparsities: REPORT_SPARSITIES, finetuneEpochs: ft, scope: $('prune-scope').value, connected: $('prune-connected').checked, variant: $('prune-variant').value };
  const result = await job('sweep', 'prune', () =>
    client.sweep(
      options,
      (p) => {
        sw.points.push(p);
        charts.sweep.add(p);
        sw.counts = charts.sweep.counts();
        $('prune-progress').value = sw.points.length / total;
        $('prune-stats').textContent = `Sweep: ${sw.points.length} of ${total} points; ${p.method} pruning at ${p.sparsity} %: ${pct(p.accuracy)}`;
      },
      (p) => {
        if (p.type === 'batch') $('prune-stats').textContent = `Sweep: fine-tuning point ${sw.points.length + 1}: epoch ${p.epoch}/${p.epochs}, batch ${p.batch}/${p.batches}`;
      },
    ),
  );
  if (!result) {
    sw.status = 'error';
    return;
  }
  sw.result = result;
  sw.status = result.cancelled ? 'cancelled' : 'done';
  showSweepTable(result);
  $('prune-stats').textContent = `Sweep ${result.cancelled ? 'cancelled' : 'done'} in ${seconds(result.seconds)}: ${result.points.length} points. The model in use did not change.`;
  announce($('prune-stats').textContent);
}

function showSweepTable(result) {
  const methods = ['weight', 'neuron'];
  const ks = [...new Set(result.points.map((p) => p.sparsity))].sort((a, b) => a - b);
  const acc = (m, k) => result.points.find((p) => p.method === m && p.sparsity === k);
  const table = document.createElement('table');
  const cap = table.createCaption();
  cap.textContent = 'Test accuracy after one-shot pruning' + (result.config?.finetune_epochs ? ` and ${result.config.finetune_epochs} fine-tuning epoch(s)` : '');
  const head = table.createTHead().insertRow();
  for (const h of ['Sparsity', 'Weight pruning', 'Neuron pruning']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const k of ks) {
    const row = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = `${k} %`;
    row.append(th);
    for (const m of methods) {
      const p = acc(m, k);
      const td = row.insertCell();
      td.textContent = p ? pct(p.accuracy, 2) : '–';
      if (p) td.title = `${int(p.nonzero_params)} non-zero parameters`;
    }
  }
  $('sweep-table').replaceChildren(table);
  const rep = state.report ?? {};
  const ours = (m) => result.summaries?.find((s) => s.method === m)?.pearson;
  const fmt = (r) => (r == null ? 'n/a' : r.toFixed(3));
  $('sweep-pearson').textContent = `Pearson r (sparsity, accuracy): weight pruning ${fmt(ours('weight'))} (report ${fmt(rep.pearson_weight)}), neuron pruning ${fmt(ours('neuron'))} (report ${fmt(rep.pearson_neuron)}).`;
}

async function resetModel() {
  const info = await job('resetting', 'prune', () => client.reset());
  if (info) {
    resetPruneView();
    $('prune-stats').textContent = 'Back to the dense model.';
    announce('Back to the dense model.');
  }
}

// ---- drawing panel -------------------------------------------------------------------------

let classifySeq = 0;
let debounce = 0;

async function classifyNow() {
  clearTimeout(debounce);
  const seq = ++classifySeq;
  const input = pad.input();
  if (!input) {
    paintImage($('seen'), new Float32Array(784), { unit: true });
    $('draw-probs').replaceChildren();
    $('draw-guess').textContent = 'Draw something.';
    state.draw.probs = null;
    return;
  }
  paintImage($('seen'), input, { unit: true });
  try {
    const probs = await client.classify(input);
    if (seq !== classifySeq) return;
    clearError('draw');
    const best = drawProbabilities($('draw-probs'), probs, state.classNames);
    const truth = state.draw.source?.label != null && pad.image ? ` (true label: ${state.classNames[state.draw.source.label]})` : '';
    $('draw-guess').textContent = `Looks like: ${state.classNames[best]}, ${pct(probs[best])}${truth}`;
    state.draw.probs = Array.from(probs);
    state.draw.classified++;
  } catch (e) {
    if (seq === classifySeq) showError('draw', e);
  }
}

function padChanged(kind) {
  if (kind !== 'image') state.draw.source = { kind: 'drawing' };
  clearTimeout(debounce);
  if (kind === 'stroke') debounce = setTimeout(classifyNow, 150);
  else classifyNow();
}

async function randomTestImage() {
  clearError('draw');
  if (state.data.status !== 'loaded') {
    if (state.data.status === 'loading') return showError('draw', 'The test images are still downloading; try again in a moment.');
    if (!(await loadData())) return showError('draw', 'The test images could not be loaded: see the data panel.');
  }
  try {
    const index = Math.floor(Math.random() * (state.data.info?.test ?? 10000));
    const t = await client.testImage(index);
    state.draw.source = { kind: 'test', index, label: t.label };
    pad.showImage(t.pixels);
  } catch (e) {
    showError('draw', e);
  }
}

// ---- start ---------------------------------------------------------------------------------

const pad = new DrawPad($('pad'), { brush: Number($('brush').value), onChange: padChanged });

function embed() {
  if (!EMBED) return;
  document.body.classList.add('embed');
  for (const p of PANELS) $(`panel-${p}`).hidden = p !== EMBED;
}

async function createLab(backend) {
  const r = await client.create({ backend });
  setBackend(r.backend);
  setModel(r.info);
  state.defaultModel = r.defaultModel;
  if (!r.defaultModel.ok) showError('draw', r.defaultModel.error);
  return r;
}

async function switchBackend() {
  const want = $('backend-select').value;
  $('header-error').hidden = true;
  const r = await job('switching backend', 'header', () => createLab(want));
  if (r) announce(`Now on ${r.backend.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}.`);
  else $('backend-select').value = state.backend?.backend ?? 'auto';
}

async function start() {
  embed();
  buildFileList();
  syncPruneControls();
  charts.train = new TrainChart($('train-chart'));
  charts.sweep = new SweepChart($('sweep-chart'));
  $('backend-select').value = BACKEND;
  client.on('data-progress', onDataProgress);
  client.on('model', (m) => setModel(m.info));
  client.on('fatal', (m) => showError('header', m.error));

  $('data-retry').addEventListener('click', loadData);
  $('train-form').addEventListener('submit', train);
  $('train-cancel').addEventListener('click', () => client.cancel());
  $('model-export').addEventListener('click', exportModel);
  $('model-import').addEventListener('change', importModel);
  $('prune-form').addEventListener('submit', prune);
  $('prune-form').addEventListener('input', syncPruneControls);
  $('sweep-start').addEventListener('click', sweep);
  $('prune-reset').addEventListener('click', resetModel);
  $('prune-cancel').addEventListener('click', () => client.cancel());
  $('sweep-report').addEventListener('change', (e) => charts.sweep.showReport(e.target.checked));
  $('brush').addEventListener('input', (e) => (pad.brush = Number(e.target.value)));
  $('draw-undo').addEventListener('click', () => pad.undo());
  $('draw-clear').addEventListener('click', () => pad.clear());
  $('draw-random').addEventListener('click', randomTestImage);
  $('backend-select').addEventListener('change', switchBackend);
  classifyNow();

  announce('Starting the lab…');
  setBusy('starting');
  try {
    await createLab(BACKEND);
  } catch (e) {
    showError('header', `Could not start on ${BACKEND}: ${e.message}`);
    try {
      if (BACKEND === 'cpu') throw e;
      await createLab('cpu');
    } catch (e2) {
      showError('header', `The lab could not start: ${e2.message}`);
      state.startError = e2.message;
      setBusy(null);
      return;
    }
  }
  setBusy(null);
  try {
    state.classNames = await client.classNames();
    state.report = await client.reportNumbers();
    charts.sweep.setReport(state.report);
  } catch (e) {
    showError('header', e);
  }
  state.ready = true;
  announce('The lab is ready.');
  if (EMBED !== 'draw') await loadData();
}

start();
