// The pruning panel: prune weights or neurons at one sparsity (then fine-tune, and compact a
// neuron-pruned net), the per-layer view, reset to dense, and the sweep over the report's
// sparsities: chart point by point, table, Pearson coefficients beside the report's.

import { drawBars, drawLayers, reconstructedPoint, sweepLine } from '../charts.js';
import { $, capitalize, el, int, mb, ms, numberField, pct, seconds, term } from '../format.js';

export function setupPrune(page) {
  const { state, client, charts, job, announce, showError, clearError } = page;
  const method = () => document.querySelector('input[name="prune-method"]:checked').value;
  /** The methods the page offers (its radio buttons), all of which a sweep runs. */
  const methods = () => [...document.querySelectorAll('input[name="prune-method"]')].map((r) => r.value);
  const stats = (text) => ($('prune-stats').textContent = text);
  /** Reconstruction when its box is ticked, on the engine's default calibration images. */
  const reconstruct = () => ($('prune-reconstruct').checked || undefined);

  function syncControls() {
    const neuron = method() === 'neuron';
    $('prune-scope-label').hidden = neuron;
    $('prune-connected-label').hidden = neuron;
    $('prune-variant-label').hidden = !neuron;
    $('prune-sparsity-value').textContent = `${$('prune-sparsity').value} %`;
  }

  /** Hides the last pruning's numbers (the model they describe is gone). */
  function resetView() {
    $('prune-result').hidden = true;
    $('prune-cost').hidden = true;
    state.prune.cost = null;
    state.prune.result = null;
    state.prune.compact = null;
  }

  /** The fine-tune epochs field (0 when empty), or null after showing why it is invalid. */
  function finetuneEpochs() {
    try {
      return numberField('prune-ft', 'Fine-tune epochs') ?? 0;
    } catch (e) {
      showError('prune', e);
      return null;
    }
  }

  /** A PruneReport: accuracy, non-zero count, encoded sizes, where the time went, per layer. */
  function showResult(r) {
    const dl = $('prune-numbers');
    dl.replaceChildren();
    term(dl, 'Test accuracy', r.accuracy == null ? 'no test set loaded' : pct(r.accuracy, 2));
    term(dl, 'Non-zero parameters', `${int(r.nonzero_params)} of ${int(r.total_params)} (${pct(r.nonzero_params / r.total_params)})`);
    const s = r.sparse_sizes;
    term(dl, 'Size', `dense ${mb(s.dense_bytes)}, bitmask ${mb(s.bitmask_bytes)}, CSR ${mb(s.csr_bytes)}`);
    const tuned = r.finetune_ms > 0 ? `, fine-tuning ${seconds(r.finetune_ms / 1000)}${r.finetune_epochs ? ` (${r.finetune_epochs} epoch(s))` : ''}` : '';
    term(dl, 'Time', `pruning ${ms(r.prune_ms)}${tuned}, evaluation ${ms(r.eval_ms)}`);
    drawLayers($('prune-layers'), r.layers);
    $('prune-compact').replaceChildren();
    $('prune-result').hidden = false;
  }

  function showCompact(c) {
    const dl = el('dl', null, 'numbers');
    term(dl, 'Compacted model', `${c.arch}: ${int(c.params)} parameters, ${mb(c.bytes)}`);
    term(dl, 'Dense model', `${c.dense_arch}: ${int(c.dense_params)} parameters, ${mb(c.dense_bytes)}`);
    term(dl, 'Latency per image', `${c.latency_ms.toFixed(3)} ms compacted against ${c.dense_latency_ms.toFixed(3)} ms dense (${c.speedup.toFixed(2)}× faster, ${int(c.images)} images)`);
    $('prune-compact').replaceChildren(el('h3', 'Compacted (removed units dropped; now the model in use)'), dl);
  }

  /** A CompactReport as cost beside cost: FLOPs, file size and latency, zeros against removed units. */
  function showCost(c) {
    state.prune.cost = c;
    const mf = (f) => `${(f / 1e6).toFixed(2)} MFLOP`;
    const f = c.file_bytes;
    const ms3 = (t) => `${t.toFixed(3)} ms`;
    drawBars($('prune-cost-bars'), [
      { label: 'FLOPs as run (zeros too)', value: 1, text: mf(c.dense_flops) },
      { label: 'FLOPs, non-zeros only', value: c.nonzero_flops / c.dense_flops, text: mf(c.nonzero_flops) },
      { label: 'FLOPs compacted', value: c.flops / c.dense_flops, text: mf(c.flops) },
      { label: 'File, dense f16', value: 1, text: mb(f.dense) },
      { label: 'File, sparse f16', value: f.sparse / f.dense, text: mb(f.sparse) },
      { label: 'File, compacted', value: f.compacted / f.dense, text: mb(f.compacted) },
      { label: 'Latency, masked', value: 1, text: ms3(c.dense_latency_ms) },
      { label: 'Latency, compacted', value: c.latency_ms / c.dense_latency_ms, text: ms3(c.latency_ms) },
    ]);
    const saves = c.speedup >= 1.2 ? `removing units makes it ${c.speedup.toFixed(2)}× faster` : `compacted it is only ${c.speedup.toFixed(2)}× as fast: few units were removed`;
    $('prune-cost-caption').textContent = `Per image, on ${int(c.images)} test images. The zeros still cost their multiplications as run: ${pct(c.nonzero_flops / c.dense_flops)} of the work is non-zero, but the masked network takes ${mf(c.dense_flops)} and the same time; ${saves} (${c.arch}).`;
    $('prune-cost').hidden = false;
  }

  /** Guess mode: the guessed accuracy (0..1), or undefined after asking for one. */
  function guess() {
    if (!page.guess) return null;
    const v = $('prune-guess').value.trim();
    const g = Number(v);
    if (v === '' || !Number.isFinite(g) || g < 0 || g > 100) {
      showError('prune', 'First, your guess: what test accuracy will be left (0 to 100 %)?');
      $('prune-guess').focus();
      return undefined;
    }
    return g / 100;
  }

  /** Reveals a guess against the result, and keeps both on the sweep chart. */
  function reveal(sparsity, g, actual) {
    if (g == null) return;
    state.prune.guesses.push({ sparsity, guess: g, actual });
    charts.sweep.setGuesses(state.prune.guesses);
    const off = actual == null ? '' : ` (${Math.abs(actual - g) < 0.02 ? 'close' : actual > g ? 'better than you thought' : 'worse than you thought'})`;
    $('prune-reveal').textContent = `At ${sparsity} % you guessed ${pct(g)}; it is ${actual == null ? 'not measured' : pct(actual, 2)}${off}.`;
    $('prune-reveal').hidden = false;
    $('prune-guess').value = '';
    announce($('prune-reveal').textContent);
  }

  async function prune(event) {
    event.preventDefault();
    const k = Number($('prune-sparsity').value);
    const m = method();
    const ft = finetuneEpochs();
    if (ft == null) return;
    const g = guess();
    if (g === undefined) return;
    const scope = $('prune-scope').value;
    if (m === 'weight' && scope === 'sensitivity' && !(await page.panels.sensitivity.ensure())) return;
    state.prune.status = 'running';
    $('prune-progress').value = 0;
    stats(`Pruning ${k} % of the ${m === 'weight' ? 'weights' : 'neurons'}…`);
    announce($('prune-stats').textContent);
    // Reconstruction takes seconds: a step at a time, and Cancel stops it.
    const onProgress = (p) => {
      if (p.type !== 'reconstruct') return;
      $('prune-progress').value = p.step / p.steps;
      stats(`Reconstructing ${p.layer}: step ${p.step} of ${p.steps}…`);
    };
    const call = m === 'weight' ? () => client.pruneWeights(k, { scope, connected: $('prune-connected').checked, reconstruct: reconstruct() }, onProgress) : () => client.pruneNeurons(k, { variant: $('prune-variant').value, reconstruct: reconstruct() }, onProgress);
    let stopped = false;
    const cancelled = () => {
      stopped = true;
      stats('Cancelled: the model in use did not change.');
      announce('Pruning cancelled; the model in use did not change.');
    };
    let result = await job(m === 'weight' ? 'pruneWeights' : 'pruneNeurons', 'prune', call, { cancelled });
    if (result && ft > 0) {
      showResult(result);
      stats(`Fine-tuning for ${ft} epoch(s)…`);
      const onProgress = (p) => {
        if (p.type !== 'batch') return;
        $('prune-progress').value = ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches);
        stats(`Fine-tuning: epoch ${p.epoch}/${p.epochs}, batch ${p.batch}/${p.batches}, loss ${p.loss.toFixed(3)}`);
      };
      result = (await job('fineTune', 'prune', () => client.fineTune(ft, {}, onProgress), {
        describe: (e) => (e.kind === 'diverged' ? `Fine-tuning stopped: ${e.message}. The pruned model is kept as it was before fine-tuning.` : undefined),
      })) ?? result;
    }
    if (!result) {
      state.prune.status = stopped ? 'cancelled' : 'error';
      if (!stopped) stats('');
      return;
    }
    state.prune.result = result;
    showResult(result);
    page.panels.histogram?.update(); // its captions count the zeros of the model in use
    $('prune-progress').value = 1;
    let text = `Pruned: ${m} ${k} %${result.accuracy != null ? `, test accuracy ${pct(result.accuracy, 2)}` : ''}.`;
    reveal(k, g, result.accuracy);
    if (m === 'neuron') {
      stats(`${text} Compacting…`);
      const c = await job('compact', 'prune', () => client.compact());
      if (c) {
        state.prune.compact = c;
        showCompact(c);
        showCost(c);
        text += ' Compacted.';
      }
    } else {
      stats(`${text} Measuring its cost…`);
      const c = await job('cost', 'prune', () => client.cost());
      if (c) showCost(c);
    }
    stats(text);
    state.prune.status = 'done';
    announce(text);
  }

  async function sweep() {
    const ft = finetuneEpochs();
    if (ft == null) return;
    const g = guess();
    if (g === undefined) return;
    const scopes = $('sweep-scopes').checked ? [...$('prune-scope').options].map((o) => o.value) : [$('prune-scope').value];
    if (scopes.includes('sensitivity') && !(await page.panels.sensitivity.ensure())) return;
    const sw = state.sweep;
    Object.assign(sw, { status: 'running', points: [], result: null, counts: { weight: 0, neuron: 0 } });
    charts.sweep.reset({ methods: methods(), scopes, reconstruct: reconstruct() != null });
    $('sweep-table').replaceChildren();
    $('sweep-pearson').textContent = '';
    $('prune-progress').value = 0;
    const options = { methods: methods(), sparsities: state.report.sparsities, finetuneEpochs: ft, scopes, connected: $('prune-connected').checked, reconstruct: reconstruct(), variant: $('prune-variant').value };
    // A line per method and scope, twice with reconstruction (by magnitude, and reconstructed).
    const total = (options.methods.length - 1 + scopes.length) * options.sparsities.length * (options.reconstruct ? 2 : 1);
    stats(`Sweeping ${total} points${ft ? ` with ${ft} fine-tuning epoch(s) each` : ''}…`);
    announce($('prune-stats').textContent);
    const onPoint = (p) => {
      sw.points.push(p);
      charts.sweep.add(p);
      sw.counts = charts.sweep.counts();
      $('prune-progress').value = sw.points.length / total;
      stats(`Sweep: ${sw.points.length} of ${total} points; ${sweepLine(p.method, p.scope, scopes, reconstructedPoint(p))} pruning at ${p.sparsity} %: ${pct(p.accuracy)}`);
    };
    const onProgress = (p) => {
      if (p.type === 'batch') stats(`Sweep: fine-tuning point ${sw.points.length + 1}: epoch ${p.epoch}/${p.epochs}, batch ${p.batch}/${p.batches}`);
    };
    const result = await job('sweep', 'prune', () => client.sweep(options, onPoint, onProgress));
    if (!result) {
      sw.status = 'error';
      return;
    }
    sw.result = result;
    sw.status = result.cancelled ? 'cancelled' : 'done';
    sw.backend = state.backend;
    showSweep(result);
    if (g != null) {
      const k = Number($('prune-sparsity').value);
      const at = result.points.find((p) => p.method === method() && p.sparsity === k && reconstructedPoint(p) === (reconstruct() != null));
      reveal(k, g, at?.accuracy);
    }
    for (const b of ['sweep-svg', 'sweep-png', 'sweep-csv', 'sweep-log']) $(b).disabled = false;
    stats(`Sweep ${result.cancelled ? 'cancelled' : 'done'} in ${seconds(result.seconds)}: ${result.points.length} points. The model in use did not change.`);
    announce($('prune-stats').textContent);
  }

  /** A SweepReport as a table (a row per sparsity, a column per line) and its Pearson r. */
  function showSweep(result) {
    const { scopes, finetune_epochs: ft } = result.config;
    const lines = result.summaries.map((s) => ({ method: s.method, scope: s.scope, reconstructed: s.reconstructed, name: sweepLine(s.method, s.scope, scopes, s.reconstructed), pearson: s.pearson }));
    const ks = [...new Set(result.points.map((p) => p.sparsity))].sort((a, b) => a - b);
    const table = el('table');
    table.createCaption().textContent = `Test accuracy after one-shot pruning${ft ? ` and ${ft} fine-tuning epoch(s)` : ''}`;
    const head = table.createTHead().insertRow();
    for (const h of ['Sparsity', ...lines.map((l) => `${capitalize(l.name)} pruning`)]) head.append(Object.assign(el('th', h), { scope: 'col' }));
    const body = table.createTBody();
    for (const k of ks) {
      const row = body.insertRow();
      row.append(Object.assign(el('th', `${k} %`), { scope: 'row' }));
      for (const l of lines) {
        const p = result.points.find((q) => q.method === l.method && q.scope === l.scope && reconstructedPoint(q) === l.reconstructed && q.sparsity === k);
        const td = row.insertCell();
        td.textContent = p ? pct(p.accuracy, 2) : '–';
        if (p) td.title = `${int(p.nonzero_params)} non-zero parameters`;
      }
    }
    $('sweep-table').replaceChildren(table);
    const fmt = (r) => (r == null ? 'n/a' : r.toFixed(3));
    // The report's coefficients are for its own pruning, by magnitude: none beside a reconstructed line.
    const per = lines.map((l) => `${l.name} pruning ${fmt(l.pearson)}${l.reconstructed ? '' : ` (report ${fmt(state.report[`pearson_${l.method}`])})`}`);
    $('sweep-pearson').textContent = `Pearson r (sparsity, accuracy): ${per.join(', ')}.`;
  }

  /** Saves `data` (a string or Blob) as a download named `name`. */
  function download(name, data, type) {
    const a = Object.assign(el('a'), { href: URL.createObjectURL(data instanceof Blob ? data : new Blob([data], { type })), download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  /** The last sweep's chart as SVG, drawn by the engine as `prunelab sweep` draws it. */
  async function sweepSvg() {
    const r = state.sweep.result;
    const mlp = state.model?.model?.kind === 'mlp';
    const title = `${state.model?.model?.arch ?? 'model'}: one-shot pruning sweep${r.config.finetune_epochs ? `, ${r.config.finetune_epochs} epoch(s) fine-tuning` : ''}`;
    return client.sweepSvg(r, title, mlp && $('sweep-report').checked);
  }

  async function exportSweep(kind) {
    clearError('prune');
    const r = state.sweep.result;
    if (!r) return showError('prune', 'Run a sweep first: there is nothing to export.');
    try {
      if (kind === 'svg') download('prunelab-sweep.svg', await sweepSvg(), 'image/svg+xml');
      if (kind === 'csv') download('prunelab-sweep.csv', await client.sweepCsv(r), 'text/csv');
      if (kind === 'png') download('prunelab-sweep.png', await svgToPng(await sweepSvg()));
      if (kind === 'log') {
        const log = { tool: 'Prune Lab', saved: new Date().toISOString(), backend: state.sweep.backend, model: state.model?.model ?? null, settings: r.config, results: r, seconds: r.seconds, guesses: state.prune.guesses, userAgent: navigator.userAgent };
        download('prunelab-run.json', JSON.stringify(log, null, 2), 'application/json');
      }
      announce(`Sweep exported as ${kind.toUpperCase()}.`);
    } catch (e) {
      showError('prune', e);
    }
  }

  async function resetModel() {
    const info = await job('reset', 'prune', () => client.reset());
    if (info) {
      resetView();
      stats('Back to the dense model.');
      announce('Back to the dense model.');
    }
  }

  syncControls();
  $('prune-form').addEventListener('submit', prune);
  $('prune-form').addEventListener('input', syncControls);
  $('sweep-start').addEventListener('click', sweep);
  $('prune-reset').addEventListener('click', resetModel);
  $('prune-cancel').addEventListener('click', () => client.cancel());
  $('sweep-report').addEventListener('change', (e) => charts.sweep.showReport(e.target.checked));
  for (const kind of ['svg', 'png', 'csv', 'log']) $(`sweep-${kind}`).addEventListener('click', () => exportSweep(kind));
  /** Predict, then reveal (the link's guess=1): a guess field before every prune and sweep. */
  const setGuess = (on) => {
    $('prune-guess-label').hidden = !on;
  };
  setGuess(page.guess);
  return { resetView, setGuess };
}

/** Renders SVG text to a PNG Blob at twice its size, through an image and a canvas. */
async function svgToPng(svg) {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new Error('the chart could not be drawn as an image'));
      img.src = url;
    });
    const canvas = Object.assign(document.createElement('canvas'), { width: img.width * 2, height: img.height * 2 });
    const ctx = canvas.getContext('2d');
    ctx.scale(2, 2);
    ctx.drawImage(img, 0, 0);
    return await new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no PNG'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}
