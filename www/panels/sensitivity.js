// Per-layer sensitivity: each hidden layer pruned alone at each sparsity (a line per layer,
// and the same numbers as a table), measured on training images. The sensitivity scope
// allocates from it, so pruning or sweeping with that scope measures first (`ensure`). DOM only;
// the Lab measures (sensitivity).

import { SensitivityChart } from '../charts.js';
import { $, el, int, pct, seconds } from '../format.js';

/** Training images the page measures on: half the engine's default, to halve the wait. */
const IMAGES = 1000;

export function setupSensitivity(page) {
  const { state, client, job, announce } = page;
  const chart = new SensitivityChart($('sensitivity-chart'));
  const stats = (text) => ($('prune-stats').textContent = text);

  /** The table twin of the chart: sparsity down, a column per layer. */
  function showTable(s) {
    const table = el('table');
    table.createCaption().textContent = `Accuracy on the first ${int(s.images)} training images with one layer pruned alone (dense: ${pct(s.dense_accuracy, 1)})`;
    const head = table.createTHead().insertRow();
    for (const h of ['Sparsity', ...s.layers.map((l) => `${l.name} (${int(l.weights)} weights)`)]) head.append(Object.assign(el('th', h), { scope: 'col' }));
    const body = table.createTBody();
    s.sparsities.forEach((k, j) => {
      const row = body.insertRow();
      row.append(Object.assign(el('th', `${k} %`), { scope: 'row' }));
      for (const l of s.layers) row.insertCell().textContent = pct(l.accuracy[j], 1);
    });
    $('sensitivity-table').replaceChildren(table);
  }

  function show(s) {
    $('prune-sensitivity').hidden = false;
    chart.draw(s.layers.map((l) => ({ name: l.name, points: s.sparsities.map((k, j) => [k, l.accuracy[j]]) })), s.dense_accuracy);
    showTable(s);
    const worst = s.layers.reduce((a, l) => (l.accuracy[s.sparsities.indexOf(90)] < a.accuracy[s.sparsities.indexOf(90)] ? l : a));
    $('sensitivity-caption').textContent = `Measured in ${seconds(s.seconds)}. At 90 % alone, ${worst.name} loses most; the sensitivity scope prunes each layer as far as a greedy path through the layers allows.`;
  }

  /** Measures the dense model's sensitivity; resolves to it, or undefined if that failed. */
  async function measure() {
    const layers = new Map();
    $('prune-sensitivity').hidden = false;
    $('sensitivity-table').replaceChildren();
    $('prune-progress').value = 0;
    stats('Measuring per-layer sensitivity…');
    announce('Measuring per-layer sensitivity…');
    const onPoint = (p) => {
      $('prune-progress').value = Math.min(1, p.done / p.total);
      if (p.layer) {
        if (!layers.has(p.layer)) layers.set(p.layer, { name: p.layer, points: [] });
        layers.get(p.layer).points.push([p.sparsity, p.accuracy]);
        chart.draw([...layers.values()], state.sensitivity.dense ?? p.accuracy);
        stats(`Sensitivity: ${p.layer} alone at ${p.sparsity} %: ${pct(p.accuracy, 1)}`);
      } else {
        stats(`Sensitivity: finding the path, all layers at ${p.sparsity.toFixed(1)} %: ${pct(p.accuracy, 1)}`);
      }
    };
    state.sensitivity = { status: 'running', dense: null, result: null };
    const s = await job('sensitivity', 'prune', () => client.sensitivity({ images: IMAGES }, onPoint));
    if (!s) {
      state.sensitivity.status = 'error';
      return undefined;
    }
    state.sensitivity = { status: 'done', dense: s.dense_accuracy, result: s };
    show(s);
    $('prune-progress').value = 1;
    stats(`Sensitivity measured on ${int(s.images)} training images in ${seconds(s.seconds)}.`);
    announce($('prune-stats').textContent);
    page.panels.histogram?.update();
    page.panels.preview?.update();
    return s;
  }

  /** Resolves true once the model in use has sensitivity curves, measuring them if needed. */
  async function ensure() {
    if (state.model?.sensitivity_images != null) return true;
    return Boolean(await measure());
  }

  /** Choosing the sensitivity scope measures at once, so previews and histograms can follow. */
  function onScope() {
    if ($('prune-scope').value === 'sensitivity' && state.model?.model && state.model.sensitivity_images == null && !state.busy) measure();
  }

  state.sensitivity = { status: 'idle', dense: null, result: null };
  $('sensitivity-start').addEventListener('click', measure);
  $('prune-scope').addEventListener('change', onScope);
  return { ensure, measure };
}
