// Prune Lab's page (entry module): the state, the header (backend, model in use), the shared
// busy/error handling, and the start. Each panel lives in panels/*.js and gets `page` (below).
// Only DOM work happens here: the model is reached through LabClient, in the worker.
// Tests read window.pruneLab.state. The link carries the settings and the layout
// (url-state.js); on a built site (scripts/build-site.sh) the page registers its service worker.

import { LabClient } from './lab-client.js';
import { TrainChart, SweepChart } from './charts.js';
import { $, int } from './format.js';
import { setupData } from './panels/data.js';
import { setupTrain } from './panels/train.js';
import { setupFirstLayer } from './panels/first-layer.js';
import { setupHistogram } from './panels/histogram.js';
import { setupPreview } from './panels/preview.js';
import { setupPrune } from './panels/prune.js';
import { setupDraw } from './panels/draw.js';
import { setupSensitivity } from './panels/sensitivity.js';
import { setupEmbed } from './panels/embed.js';
import { applyLayout, currentLink, follow, restore } from './url-state.js';

/** The built site's hash (scripts/build-site.sh writes it); none on the development server. */
const BUILD = document.querySelector('meta[name="prunelab-build"]')?.content ?? null;

const state = {
  ready: false,
  busy: null,
  backend: null, // BackendInfo
  whyOneThread: null, // why the CPU backend runs on one thread (create's answer), or null
  labs: 0, // Labs created so far (a backend switch makes a new one)
  classNames: null, // Lab.classNames()
  report: null, // Lab.reportNumbers()
  model: null, // the last LabInfo
  defaultModel: null, // {ok, carried, error?}: models/default.plab imported, or why not
  padReady: false, // the pad can classify (wasm and drawing model in): the first visit's milestone
  drawingModel: null, // the worker's report on models/drawings.plab (the pad's default)
  notes: [], // what the page told the visitor besides errors (note())
  recoveries: [], // the worker's restarts: {reason, lost, backend} ('recovered' events)
  data: { status: 'idle', progress: {}, events: 0, info: null, error: null, errorKind: null, errorFile: null },
  train: { status: 'idle', curve: { loss: [], accuracy: [] }, result: null, cell: null, error: null, errorKind: null },
  prune: { status: 'idle', result: null, compact: null, cost: null, guesses: [], histogram: null, preview: null, firstLayer: null, error: null, errorKind: null },
  sweep: { status: 'idle', points: [], counts: { weight: 0, neuron: 0 }, result: null, error: null, errorKind: null },
  draw: { probs: null, verdict: null, dense: null, input: null, classified: 0, latest: 0, shown: 0, source: null, error: null, errorKind: null },
};
const client = new LabClient();
const charts = {};

function announce(text) {
  $('status').textContent = text;
}

/** Shows an error (an Error with the Lab's kind, or a string) in a panel; `text` overrides. */
function showError(panel, error, text = error?.message ?? String(error)) {
  if (panel === 'header' && page.layout.embed) panel = page.layout.panels[0]; // embedded, the header is hidden
  const box = $(`${panel}-error`);
  box.textContent = text;
  box.hidden = false;
  if (state[panel]) Object.assign(state[panel], { error: text, errorKind: error?.kind ?? null });
  if (panel === 'data') state.data.errorFile = error?.file ?? null;
  announce(`Error: ${text}`);
}

function clearError(panel) {
  $(`${panel}-error`).hidden = true;
  if (state[panel]) Object.assign(state[panel], { error: null, errorKind: null });
}

/** A sentence for the visitor that is not an error (a link's ignored values, a host's setup). */
function note(text) {
  const box = $('page-notes');
  box.append(Object.assign(document.createElement('span'), { textContent: `${text} ` }));
  box.hidden = false;
  state.notes.push(text);
}

/** One long call at a time: disables the buttons that start one, enables the right cancel. */
function setBusy(job) {
  state.busy = job;
  document.body.dataset.busy = job ?? '';
  for (const b of document.querySelectorAll('.long')) b.disabled = Boolean(job);
  $('train-cancel').disabled = job !== 'train';
  $('prune-cancel').disabled = !['sweep', 'fineTune', 'sensitivity', 'pruneWeights', 'pruneNeurons'].includes(job);
  $('backend-select').disabled = Boolean(job);
}

/** What a Lab call is doing, for the visitor: jobs (state.busy) are named by the call they make. */
const JOB_NAMES = { train: 'training', fineTune: 'fine-tuning', sweep: 'a sweep', sensitivity: 'measuring sensitivity', pruneWeights: 'pruning', pruneNeurons: 'pruning', compact: 'compacting', cost: 'measuring the cost', classify: 'classifying', classifyDrawing: 'classifying', loadData: 'loading the data', importModel: 'loading a model', reset: 'resetting', create: 'starting the lab', panicForTest: 'a test of crash recovery' };

/**
 * Runs a long call for a panel: busy while it runs, a failure shown in the panel (worded by
 * `describe`), a cancel the visitor asked for handed to `cancelled` instead when given.
 * Resolves to the call's result, or undefined when it failed or was cancelled.
 */
async function job(name, panel, fn, { describe, cancelled } = {}) {
  if (state.busy) {
    showError(panel, `Wait for ${JOB_NAMES[state.busy] ?? state.busy} to finish (or cancel it) first.`);
    return undefined;
  }
  clearError(panel);
  setBusy(name);
  try {
    return await fn();
  } catch (e) {
    if (e?.kind === 'cancelled' && cancelled) cancelled(e);
    else showError(panel, e, describe?.(e));
    return undefined;
  } finally {
    setBusy(null);
  }
}

/** The header's model line, from a LabInfo (create, reset and every 'model' event). */
function setModel(info) {
  state.model = info;
  if (info?.backend) setBackend(info.backend);
  const m = info?.model;
  if (!m) {
    $('model-line').textContent = 'none yet: train one or load a model file';
  } else {
    const tuned = m.finetune_epochs ? `, fine-tuned ${m.finetune_epochs} epoch(s)` : '';
    const pruned = m.pruned ? `; pruned: ${m.pruned.method} ${m.pruned.sparsity} %${tuned}` : '';
    const compact = info.in_use && info.in_use !== m.arch ? `; compacted to ${info.in_use}` : '';
    $('model-line').textContent = `${m.arch}, ${int(m.params)} parameters, ${int(m.nonzero_params)} non-zero${pruned}${compact}`;
  }
  page.panels.draw?.refresh();
  page.panels.histogram?.update();
  page.panels.preview?.update();
  page.panels.firstLayer?.update();
}

function setBackend(b) {
  state.backend = b;
  const threads = `${b.threads} thread${b.threads === 1 ? '' : 's'}`;
  $('backend-name').textContent = b.backend === 'webgpu' ? 'WebGPU' : `CPU, ${threads}`;
  const oneThread = b.backend === 'cpu' && state.whyOneThread ? `; one thread: ${state.whyOneThread}` : '';
  $('backend-reason').textContent = `(${b.reason}${b.adapter ? `; adapter: ${b.adapter}` : ''}${oneThread})`;
}

/** The worker died and LabClient restarted it: say what happened, what came back, what was lost. */
function recovered(r) {
  state.recoveries.push({ reason: r.reason, lost: r.lost, backend: r.backend?.backend ?? null });
  if (r.info) setModel(r.info);
  const select = $('backend-select');
  if (r.backend && select.value !== 'auto') select.value = r.backend.backend; // a lost GPU: now the CPU
  const on = r.backend ? ` on ${r.backend.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}` : '';
  const model = r.info?.model ? 'with the model it had before' : 'without a model';
  const lost = r.lost.length ? `What was running (${r.lost.map((m) => JOB_NAMES[m] ?? m).join(', ')}) was lost.` : 'Nothing was lost.';
  note(`The lab stopped (${r.reason}) and restarted${on} ${model}. ${lost}`);
  announce(`The lab restarted${on}. ${lost}`);
  if (r.dataError) showError('data', `The data is not loaded: ${r.dataError}. Load it again.`);
}


/** What every panel gets: the state, the client, and the shared helpers. */
const page = { state, client, charts, announce, showError, clearError, job, note, guess: false, layout: null, panels: {} };
window.pruneLab = { state, client, charts };

/**
 * Where auto's timings are kept between visits: per build, since a new bundle may be faster,
 * and per thread count, since the CPU's figure depends on it (worker.js: threads need isolation).
 */
const SPEEDS_KEY = `prunelab.backend-speeds.${BUILD ?? 'dev'}.${self.crossOriginIsolated ? navigator.hardwareConcurrency : 1}`;

/** auto's figures from an earlier visit (the Lab uses them only for the same adapter). */
function rememberedSpeeds() {
  try {
    const speeds = JSON.parse(localStorage.getItem(SPEEDS_KEY));
    return speeds ? { ...speeds, cached: true } : undefined;
  } catch {
    return undefined; // storage refused: auto times again
  }
}

function rememberSpeeds(speeds) {
  if (!speeds || speeds.cached) return;
  try {
    localStorage.setItem(SPEEDS_KEY, JSON.stringify(speeds));
  } catch {
    // storage refused: the next visit times again
  }
}

/**
 * A new Lab on `backend` with the pad's model (the pad works from then on); a later one keeps
 * the dataset and the model with its pruning. Then the default model, unless one came along.
 */
async function createLab(backend) {
  const r = await client.create({ backend, measured: backend === 'auto' ? rememberedSpeeds() : undefined });
  state.whyOneThread = r.whyOneThread;
  setBackend(r.backend);
  rememberSpeeds(r.backend.speeds);
  state.labs++;
  setModel(r.info);
  state.drawingModel = r.drawingModel;
  page.panels.draw?.setDrawingModel(r.drawingModel);
  state.padReady = true;
  state.defaultModel = await client.loadDefaultModel();
  if (!state.defaultModel.ok) showError('draw', state.defaultModel.error);
  return r;
}

async function switchBackend() {
  const want = $('backend-select').value;
  const r = await job('create', 'header', () => createLab(want));
  if (r) announce(`Now on ${r.backend.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}; the model and the data came along.`);
  else $('backend-select').value = state.backend?.backend ?? 'auto';
}

/** The Lab's own names and numbers, then a Lab on the asked backend (the CPU if that fails). */
async function startLab() {
  [state.classNames, state.report] = await Promise.all([client.classNames(), client.reportNumbers()]);
  charts.sweep.setReport(state.report);
  const backend = $('backend-select').value; // the link's, or auto
  try {
    await createLab(backend);
  } catch (e) {
    if (backend === 'cpu') throw e;
    showError('header', e, `Could not start on ${backend}: ${e.message}`);
    await createLab('cpu');
  }
}

/** Copies the link of the page as it is now (or shows it to copy by hand). */
async function copyLink() {
  const link = currentLink(page.layout.defaults);
  try {
    await navigator.clipboard.writeText(link);
    $('copy-link-done').textContent = 'Link copied.';
  } catch {
    $('copy-link-done').textContent = `Copy this link: ${link}`;
  }
  state.link = link;
}

/** Offline use after one visit, on a built site only (sw.js does not exist in www/). */
async function registerServiceWorker() {
  if (!BUILD) return;
  if (!('serviceWorker' in navigator)) return note('This browser keeps no offline copy of the lab (no service workers here).');
  try {
    await navigator.serviceWorker.register(new URL('sw.js', location.href));
    state.offline = 'registered';
  } catch (e) {
    state.offline = 'refused';
    note(`No offline copy of the lab: the browser refused its service worker (${e.message}).`);
  }
}

async function start() {
  charts.train = new TrainChart($('train-chart'));
  charts.sweep = new SweepChart($('sweep-chart'));
  Object.assign(page.panels, { data: setupData(page), train: setupTrain(page), prune: setupPrune(page), sensitivity: setupSensitivity(page), histogram: setupHistogram(page), preview: setupPreview(page), firstLayer: setupFirstLayer(page), draw: setupDraw(page) });
  page.layout = restore();
  page.guess = page.layout.guess;
  page.panels.prune.setGuess(page.layout.guess);
  if (page.layout.embed) document.body.classList.add('embed');
  applyLayout(page.layout);
  if (page.layout.notes.length) note(`Ignored from the link: ${page.layout.notes.join('; ')}.`);
  follow(page.layout.defaults);
  page.panels.embed = setupEmbed(page);
  $('copy-link').addEventListener('click', copyLink);
  $('backend-select').addEventListener('change', switchBackend);
  client.on('model', (m) => setModel(m.info));
  client.on('fatal', (m) => showError('header', m.error));
  client.on('recovered', recovered);
  client.on('note', (m) => note(m.text));

  announce('Starting the lab…');
  setBusy('starting');
  try {
    await startLab();
  } catch (e) {
    showError('header', e, `The lab could not start: ${e.message}`);
    state.startError = e.message;
    return;
  } finally {
    setBusy(null);
  }
  state.ready = true;
  announce('The lab is ready.');
  registerServiceWorker();
  // The data, unless the visitor sees only the pad (which needs none).
  if (page.layout.panels.some((p) => p !== 'draw')) await page.panels.data.load();
}

start();
