// Charts for the page: live training curves and the sweep figure (uPlot, loaded as the global
// `uPlot` from vendor/), the confusion-matrix heat map (canvas), and HTML bar charts for class
// probabilities and per-layer pruning. Every chart keeps its data readable for tests.

export const COLORS = { weight: '#0072b2', neuron: '#d55e00', loss: '#c0392b', accuracy: '#1a7f37' };

/** Keeps a uPlot chart as wide as its container. */
function fitWidth(plot, el, height) {
  const resize = () => plot.setSize({ width: Math.max(200, el.clientWidth), height });
  new ResizeObserver(resize).observe(el);
  resize();
}

/** Loss (left axis) and accuracy (right axis, %) per batch; redraws at most every 200 ms. */
export class TrainChart {
  constructor(el, height = 240) {
    this.el = el;
    this.data = [[], [], []]; // step, loss, accuracy
    this.timer = 0;
    this.plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        scales: { x: { time: false }, loss: { auto: true }, acc: { range: [0, 100] } },
        series: [
          { label: 'batch' },
          { label: 'loss', stroke: COLORS.loss, width: 1.5, scale: 'loss', value: (u, v) => (v == null ? '–' : v.toFixed(3)) },
          { label: 'accuracy', stroke: COLORS.accuracy, width: 1.5, scale: 'acc', value: (u, v) => (v == null ? '–' : `${v.toFixed(1)} %`) },
        ],
        axes: [
          { label: 'batch' },
          { scale: 'loss', label: 'loss', stroke: COLORS.loss },
          { scale: 'acc', label: 'accuracy (%)', side: 1, grid: { show: false }, stroke: COLORS.accuracy },
        ],
      },
      this.data,
      el,
    );
    fitWidth(this.plot, el, height);
  }

  reset() {
    this.data = [[], [], []];
    this.plot.setData(this.data);
  }

  add(loss, accuracy) {
    const [x, l, a] = this.data;
    x.push(x.length + 1);
    l.push(loss);
    a.push(accuracy * 100);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), 200);
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.plot.setData(this.data);
    this.el.dataset.points = String(this.data[0].length);
  }
}

const PALETTE = ['#0072b2', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#d55e00'];

/**
 * Accuracy (%) against sparsity (%), one line per key, points added as they arrive; `hollow`
 * lines are isolated published points (markers only). Rebuilt when its lines change.
 */
class LinesChart {
  constructor(el, { height = 280, yLabel }) {
    Object.assign(this, { el, height, yLabel, lines: new Map(), plot: null });
  }

  /** lines: [{key, label, stroke, hollow?, dash?}]; keeps the points of keys it already had. */
  setLines(lines) {
    const old = this.lines;
    this.lines = new Map(lines.map((l) => [l.key, { ...l, points: old.get(l.key)?.points ?? new Map(), show: old.get(l.key)?.show ?? true }]));
    this.plot?.destroy();
    const pct = (u, v) => (v == null ? '–' : `${v.toFixed(1)} %`);
    const series = [...this.lines.values()].map((l) =>
      l.hollow
        ? { label: l.label, stroke: l.stroke, width: 2, show: l.show, paths: () => null, points: { show: true, size: 11, width: 2, fill: '#fff', stroke: l.stroke }, value: pct }
        : { label: l.label, stroke: l.stroke, width: 2, dash: l.dash, show: l.show, spanGaps: true, points: { show: true, size: 6, fill: l.stroke }, value: pct },
    );
    const opts = {
      width: Math.max(200, this.el.clientWidth),
      height: this.height,
      scales: { x: { time: false, range: [0, 100] }, y: { range: [0, 100] } },
      series: [{ label: 'sparsity %' }, ...series],
      axes: [{ label: 'sparsity (%)' }, { label: this.yLabel }],
      legend: { live: false },
    };
    this.plot = new uPlot(opts, [[], ...series.map(() => [])], this.el);
    if (!this.fitted) fitWidth({ setSize: (s) => this.plot.setSize(s) }, this.el, this.height);
    this.fitted = true;
    this.redraw();
  }

  set(key, x, y) {
    this.lines.get(key)?.points.set(x, y);
    this.redraw();
  }

  show(key, show) {
    const i = [...this.lines.keys()].indexOf(key);
    if (i < 0) return;
    this.lines.get(key).show = show;
    this.plot.setSeries(i + 1, { show });
  }

  redraw() {
    const all = [...this.lines.values()];
    const xs = [...new Set(all.flatMap((l) => [...l.points.keys()]))].sort((a, b) => a - b);
    this.plot.setData([xs, ...all.map((l) => xs.map((x) => l.points.get(x) ?? null))]);
  }
}

/**
 * A sweep line's key and label: the method, the scope when a sweep compares scopes (or it is not
 * global), and whether reconstructed. The engine's `Line::name` (src/sweep/mod.rs) says the same.
 */
export function sweepLine(method, scope, scopes, reconstructed = false) {
  const name = scope && (scopes.length > 1 || scope !== 'global') ? `${method} (${scope})` : method;
  return reconstructed ? `${name}, reconstructed` : name;
}

/** Whether a sweep point was reconstructed (it names its calibration images). */
export const reconstructedPoint = (p) => p.calibration_images != null;

/**
 * The sweep: test accuracy against sparsity, a line per method (and scope), with the report's
 * own numbers as hollow markers that can be shown or hidden.
 */
export class SweepChart extends LinesChart {
  constructor(el, height = 280) {
    super(el, { height, yLabel: 'test accuracy (%)' });
    this.report = { weight: [], neuron: [] };
    this.reset({ methods: ['weight', 'neuron'], scopes: ['global'] });
  }

  /** report: Lab.reportNumbers() ({weight: [[sparsity, accuracy]…], neuron: …}). */
  setReport(report) {
    this.report = { weight: report.weight ?? [], neuron: report.neuron ?? [] };
    this.reset(this.config);
  }

  showReport(show) {
    this.showingReport = show;
    for (const m of ['weight', 'neuron']) this.show(`report: ${m}`, show);
  }

  /**
   * Empties the chart for a sweep of `config` ({methods, scopes, reconstruct}). With
   * reconstruct, each line has a dashed twin in its colour: the same pruning, reconstructed.
   */
  reset(config) {
    this.config = config;
    const base = config.methods.flatMap((m) => (m === 'weight' ? config.scopes.map((s) => sweepLine(m, s, config.scopes)) : [m]));
    const colour = (key, i) => (config.scopes.length > 1 ? PALETTE[i % PALETTE.length] : COLORS[key] ?? PALETTE[i]);
    const lines = base.flatMap((key, i) => [
      { key, label: `${key} pruning`, stroke: colour(key, i) },
      ...(config.reconstruct ? [{ key: `${key}, reconstructed`, label: `${key}, reconstructed`, stroke: colour(key, i), dash: [7, 4] }] : []),
    ]);
    this.lines = new Map();
    const guessing = this.guesses?.length ? [{ key: 'your guesses', label: 'your guesses', stroke: '#e69f00', hollow: true }, { key: 'pruned, as it came out', label: 'pruned, as it came out', stroke: '#000', hollow: true }] : [];
    this.setLines([
      ...lines,
      ...['weight', 'neuron'].map((m) => ({ key: `report: ${m}`, label: `report: ${m}`, stroke: COLORS[m], hollow: true })),
      ...guessing,
    ]);
    for (const m of ['weight', 'neuron']) for (const [k, a] of this.report[m]) this.lines.get(`report: ${m}`).points.set(k, a * 100);
    for (const g of this.guesses ?? []) {
      this.lines.get('your guesses').points.set(g.sparsity, g.guess * 100);
      if (g.actual != null) this.lines.get('pruned, as it came out').points.set(g.sparsity, g.actual * 100);
    }
    if (this.showingReport === false) this.showReport(false);
    this.redraw();
  }

  add(point) {
    this.set(sweepLine(point.method, point.scope, this.config.scopes, reconstructedPoint(point)), point.sparsity, point.accuracy * 100);
  }

  /** Predict, then reveal: guesses ({sparsity, guess, actual?}, accuracies 0..1) beside results. */
  setGuesses(guesses) {
    this.guesses = guesses;
    const points = new Map([...this.lines].filter(([, l]) => !l.hollow).map(([k, l]) => [k, l.points]));
    this.reset(this.config);
    for (const [k, p] of points) if (this.lines.has(k)) this.lines.get(k).points = p;
    this.redraw();
  }

  /** How many points each method has on the chart. */
  counts() {
    const c = { weight: 0, neuron: 0 };
    for (const [key, l] of this.lines) if (!l.hollow) c[key.split(/[ ,]/)[0]] += l.points.size;
    return c;
  }

  redraw() {
    super.redraw();
    if (!this.config) return;
    const c = this.counts();
    this.el.dataset.weightPoints = String(c.weight);
    this.el.dataset.neuronPoints = String(c.neuron);
  }
}

/** Per-layer sensitivity: accuracy with one layer pruned alone, a line per layer. */
export class SensitivityChart extends LinesChart {
  constructor(el, height = 240) {
    super(el, { height, yLabel: 'accuracy (%)' });
  }

  /** curves: a Sensitivity (or the layers seen so far, each {name, points: [[k, acc]…]}). */
  draw(layers, dense) {
    this.lines = new Map();
    this.setLines(layers.map((l, i) => ({ key: l.name, label: l.name, stroke: PALETTE[i % PALETTE.length] })));
    for (const l of layers) {
      this.lines.get(l.name).points.set(0, dense * 100);
      for (const [k, a] of l.points) this.lines.get(l.name).points.set(k, a * 100);
    }
    this.redraw();
  }
}

/** confusion[true][predicted] as a heat map; colour is the share of the true class's row. */
export function drawConfusion(canvas, confusion, classNames) {
  const n = confusion.length;
  const css = Math.min(canvas.parentElement.clientWidth || 420, 460);
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${css}px`;
  canvas.style.height = `${css}px`;
  canvas.width = Math.round(css * dpr);
  canvas.height = Math.round(css * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, css, css);
  const left = Math.min(86, css * 0.24);
  const top = 18;
  const cell = (css - left - 2) / n;
  ctx.font = `${Math.max(9, Math.min(12, cell * 0.36))}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  for (let t = 0; t < n; t++) {
    const total = confusion[t].reduce((a, b) => a + b, 0) || 1;
    ctx.fillStyle = '#222';
    ctx.textAlign = 'right';
    ctx.fillText(classNames[t] ?? String(t), left - 4, top + (t + 0.5) * cell);
    for (let p = 0; p < n; p++) {
      const share = confusion[t][p] / total;
      const x = left + p * cell;
      const y = top + t * cell;
      ctx.fillStyle = t === p ? `rgba(0, 114, 178, ${0.08 + 0.92 * share})` : `rgba(213, 94, 0, ${Math.min(1, 0.04 + 3 * share)})`;
      ctx.fillRect(x, y, cell - 1, cell - 1);
      if (cell >= 24 && confusion[t][p] > 0) {
        ctx.fillStyle = share > 0.5 ? '#fff' : '#111';
        ctx.textAlign = 'center';
        ctx.fillText(String(confusion[t][p]), x + cell / 2, y + cell / 2);
      }
    }
  }
  ctx.fillStyle = '#222';
  ctx.textAlign = 'center';
  for (let p = 0; p < n; p++) ctx.fillText(String(p), left + (p + 0.5) * cell, top / 2);
  const correct = confusion.reduce((a, row, i) => a + row[i], 0);
  const all = confusion.flat().reduce((a, b) => a + b, 0);
  canvas.setAttribute('aria-label', `Confusion matrix: rows are true classes, columns predicted classes 0 to 9; ${correct} of ${all} test images on the diagonal (correct).`);
  canvas.confusionLayout = { left, top, cell, n };
}

/** The [true, predicted] cell under a pointer event on a drawn confusion matrix, or null. */
export function confusionCell(canvas, event) {
  const g = canvas.confusionLayout;
  if (!g) return null;
  const r = canvas.getBoundingClientRect();
  const [p, t] = [Math.floor((event.clientX - r.left - g.left) / g.cell), Math.floor((event.clientY - r.top - g.top) / g.cell)];
  return t >= 0 && t < g.n && p >= 0 && p < g.n ? [t, p] : null;
}

/** A horizontal bar list: rows [{label, value (0..1), text}]; the largest can be highlighted. */
export function drawBars(el, rows, { highlight = -1 } = {}) {
  el.replaceChildren(
    ...rows.map((r, i) => {
      const row = document.createElement('div');
      row.className = i === highlight ? 'bar-row top' : 'bar-row';
      const label = document.createElement('span');
      label.className = 'bar-label';
      label.textContent = r.label;
      const track = document.createElement('span');
      track.className = 'bar-track';
      const fill = document.createElement('span');
      fill.className = 'bar-fill';
      fill.style.width = `${Math.max(0, Math.min(1, r.value)) * 100}%`;
      track.append(fill);
      const value = document.createElement('span');
      value.className = 'bar-value';
      value.textContent = r.text ?? `${(r.value * 100).toFixed(1)} %`;
      row.append(label, track, value);
      return row;
    }),
  );
}

/** The 10 class probabilities as bars, the most likely highlighted. */
export function drawProbabilities(el, probs, classNames) {
  const best = probs.indexOf(Math.max(...probs));
  drawBars(el, Array.from(probs, (p, i) => ({ label: classNames[i], value: p })), { highlight: best });
  el.dataset.probs = JSON.stringify(Array.from(probs));
  return best;
}

/** Per layer: share of weights left and of units alive, as two bars each. */
export function drawLayers(el, layers) {
  const rows = [];
  for (const l of layers) {
    rows.push({ label: `${l.name} weights`, value: l.weights ? l.nonzero_weights / l.weights : 0, text: `${l.nonzero_weights.toLocaleString()} / ${l.weights.toLocaleString()}` });
    rows.push({ label: `${l.name} units`, value: l.units ? (l.units - l.dead_units) / l.units : 0, text: `${(l.units - l.dead_units).toLocaleString()} / ${l.units.toLocaleString()} alive` });
  }
  drawBars(el, rows);
}
