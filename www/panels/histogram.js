// What weight pruning at the slider's sparsity would remove, before pruning: per hidden layer a
// histogram of |w| (log scale) in two colours, kept and removed, the layer's threshold and the
// count, updated as the slider or the scope moves. The Lab computes it (weightHistogram) from
// the same mask a prune uses, so the count shown is the count the prune removes. DOM only.

import { $, el, int, pct } from '../format.js';

const KEPT = '#0969da';
const REMOVED = '#cf222e';

/** Draws one layer's histogram on a canvas: bars of kept over removed, bins along x, and the
 *  layer's threshold (log10 |w| from `lo` to `hi` across the canvas) as a dark line. */
function drawLayer(canvas, layer, lo, hi) {
  const bins = layer.kept.length;
  const w = (canvas.width = 240);
  const h = (canvas.height = 56);
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, w, h);
  const peak = Math.max(1, ...layer.kept.map((k, i) => k + layer.removed[i]));
  const bw = w / bins;
  // Square-root heights: the tails of a weight distribution are a thousandth of its peak.
  const y = (n) => (Math.sqrt(n / peak) * (h - 2));
  for (let i = 0; i < bins; i++) {
    const [k, r] = [layer.kept[i], layer.removed[i]];
    ctx.fillStyle = REMOVED;
    ctx.fillRect(i * bw, h - y(k + r), bw - 0.5, y(k + r) - y(k));
    ctx.fillStyle = KEPT;
    ctx.fillRect(i * bw, h - y(k), bw - 0.5, y(k));
  }
  if (layer.threshold > 0) {
    const x = Math.max(1, Math.min(w - 1, ((Math.log10(layer.threshold) - lo) / (hi - lo)) * w));
    ctx.fillStyle = '#111';
    ctx.fillRect(x - 0.75, 0, 1.5, h);
  }
}

export function setupHistogram(page) {
  const { state, client } = page;
  let seq = 0;
  let timer = 0;

  async function update() {
    const box = $('prune-histogram');
    const weight = document.querySelector('input[name="prune-method"]:checked').value === 'weight';
    box.hidden = !weight || !state.model?.model;
    if (box.hidden) return;
    const mine = ++seq;
    const k = Number($('prune-sparsity').value);
    try {
      const h = await client.weightHistogram(k, { scope: $('prune-scope').value });
      if (mine !== seq) return;
      state.prune.histogram = { sparsity: h.sparsity, scope: h.scope, would_remove: h.would_remove, layers: h.layers.map((l) => ({ name: l.name, would_remove: l.would_remove, threshold: l.threshold })) };
      const lo = h.log10_edges[0];
      const hi = h.log10_edges[h.log10_edges.length - 1];
      $('prune-histogram-axis').textContent = `|w| on a log scale, 1e${lo.toFixed(1)} (left) to 1e${hi.toFixed(1)} (right); blue stays, red goes.`;
      $('prune-histogram-layers').replaceChildren(
        ...h.layers.map((l) => {
          const canvas = el('canvas');
          drawLayer(canvas, l, lo, hi);
          const t = l.threshold == null ? 'nothing' : `|w| ≤ ${l.threshold.toExponential(2)} (the dark line)`;
          const pruned = state.prune.result?.layers.find((x) => x.name === l.name);
          const zeros = pruned ? `; the model in use has ${int(pruned.weights - pruned.nonzero_weights)} exactly zero` : '';
          const text = `${l.name}: removes ${int(l.would_remove)} of ${int(l.weights)} (${pct(l.would_remove / l.weights)}), ${t}${zeros}`;
          canvas.setAttribute('role', 'img');
          canvas.setAttribute('aria-label', text);
          const figure = el('figure');
          figure.append(canvas, el('figcaption', text));
          return figure;
        }),
      );
      const reconstructing = $('prune-reconstruct').checked ? ' With reconstruct, each layer loses as many, but not these: it picks the weights whose loss its survivors can best make up for (OBS saliency, not |w|) and updates those that stay.' : '';
      $('prune-histogram-total').textContent = `At ${k} %: ${int(h.would_remove)} weights go in all${h.scope === 'global' ? ', below one threshold across layers' : ', each layer below its own threshold'}.${reconstructing}`;
    } catch (e) {
      if (mine === seq) $('prune-histogram-total').textContent = `No histogram: ${e.message}`;
    }
  }

  /** Debounced: a slider drag sends many inputs; the last one counts. */
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(update, 60);
  }

  $('prune-form').addEventListener('input', schedule);
  return { update: schedule };
}
