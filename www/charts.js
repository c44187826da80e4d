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

/**
 * Accuracy against sparsity, one line per method, points added as they arrive; the report's
 * own numbers as hollow markers that can be shown or hidden.
 */
export class SweepChart {
  constructor(el, height = 280) {
    this.el = el;
    this.report = { weight: [], neuron: [] };
    this.points = { weight: new Map(), neuron: new Map() };
    const line = (label, stroke) => ({ label, stroke, width: 2, spanGaps: true, points: { show: true, size: 6, fill: stroke }, value: pct });
    const hollow = (label, stroke) => ({ label, stroke, width: 2, paths: () => null, points: { show: true, size: 11, width: 2, fill: '#fff', stroke }, value: pct });
    const pct = (u, v) => (v == null ? '–' : `${v.toFixed(1)} %`);
    this.plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        scales: { x: { time: false, range: [0, 100] }, y: { range: [0, 100] } },
        series: [
          { label: 'sparsity %' },
          line('weight pruning', COLORS.weight),
          line('neuron pruning', COLORS.neuron),
          hollow('report: weight', COLORS.weight),
          hollow('report: neuron', COLORS.neuron),
        ],
        axes: [{ label: 'sparsity (%)' }, { label: 'test accuracy (%)' }],
        legend: { live: false },
      },
      [[], [], [], [], []],
      el,
    );
    fitWidth(this.plot, el, height);
  }

  /** report: Lab.reportNumbers() ({weight: [[sparsity, accuracy]…], neuron: …}). */
  setReport(report) {
    this.report = { weight: report.weight ?? [], neuron: report.neuron ?? [] };
    this.redraw();
  }

  showReport(show) {
    this.plot.setSeries(3, { show });
    this.plot.setSeries(4, { show });
  }

  reset() {
    this.points = { weight: new Map(), neuron: new Map() };
    this.redraw();
  }

  add(point) {
    this.points[point.method]?.set(point.sparsity, point.accuracy * 100);
    this.redraw();
  }

  /** How many points each method has on the chart. */
  counts() {
    return { weight: this.points.weight.size, neuron: this.points.neuron.size };
  }

  redraw() {
    const rep = (m) => new Map(this.report[m].map(([k, a]) => [k, a * 100]));
    const series = [this.points.weight, this.points.neuron, rep('weight'), rep('neuron')];
    const xs = [...new Set(series.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
    this.plot.setData([xs, ...series.map((m) => xs.map((x) => m.get(x) ?? null))]);
    const c = this.counts();
    this.el.dataset.weightPoints = String(c.weight);
    this.el.dataset.neuronPoints = String(c.neuron);
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
