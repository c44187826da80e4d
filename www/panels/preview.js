// The live preview: while the sparsity slider moves, the dense and the would-be-pruned network
// classify a fixed strip of ten test images (one per class) and the drawing on the pad, side by
// side, without committing the prune (Lab.preview). A wrong pruned answer shows in red. DOM only.

import { imageCanvas } from '../draw.js';
import { $, el, pct } from '../format.js';

export function setupPreview(page) {
  const { state, client } = page;
  let strip = null; // {pixels: Uint8Array (10 × 784), labels}
  let seq = 0;
  let timer = 0;

  /** The images to preview: the strip, then the pad's input when it has one. */
  async function images() {
    if (!strip && state.data.status === 'loaded') {
      const s = await client.sampleImages(1);
      strip = { pixels: s.pixels, labels: Array.from(s.labels) };
    }
    const out = [];
    if (strip) for (let i = 0; i < strip.labels.length; i++) out.push({ pixels: strip.pixels.subarray(i * 784, (i + 1) * 784), label: strip.labels[i] });
    if (state.draw.input) out.push({ pixels: Uint8Array.from(state.draw.input), label: state.draw.source?.label ?? null, pad: true });
    return out;
  }

  function options() {
    const method = document.querySelector('input[name="prune-method"]:checked').value;
    return method === 'weight' ? { method, scope: $('prune-scope').value, connected: $('prune-connected').checked } : { method, variant: $('prune-variant').value };
  }

  async function update() {
    const box = $('prune-preview');
    box.hidden = !state.model?.model;
    if (box.hidden) return;
    const mine = ++seq;
    const k = Number($('prune-sparsity').value);
    const shown = state.draw.shown;
    try {
      const items = await images();
      if (!items.length) return;
      const floats = new Float32Array(items.length * 784);
      items.forEach((it, i) => floats.set(Float32Array.from(it.pixels, (v) => v / 255), i * 784));
      const o = options();
      const p = await client.preview(k, o, floats);
      if (mine !== seq) return;
      const names = state.classNames;
      // padShown: which of the pad's classifications (state.draw.shown) this preview read.
      const padShown = items.some((it) => it.pad) ? shown : null;
      state.prune.preview = { sparsity: k, method: o.method, dense: p.dense.map((g) => g.class), pruned: p.pruned.map((g) => g.class), millis: p.millis, padShown };
      $('prune-preview-strip').replaceChildren(
        ...items.map((it, i) => {
          const [d, q] = [p.dense[i], p.pruned[i]];
          const cell = el('figure', null, 'preview-cell');
          const canvas = imageCanvas(it.pixels, 0, it.pad ? 'your drawing' : `a test ${names[it.label]}`);
          const wrong = it.label != null && q.class !== it.label;
          const caption = el('figcaption');
          caption.append(el('span', `${it.pad ? 'pad' : names[it.label]}`, 'muted'), el('br'), el('span', `dense: ${names[d.class]} ${pct(d.probability)}`), el('br'), el('span', `pruned: ${names[q.class]} ${pct(q.probability)}`, wrong ? 'wrong' : ''));
          cell.append(canvas, caption);
          return cell;
        }),
      );
      const agree = p.dense.filter((g, i) => g.class === p.pruned[i].class).length;
      // Reconstruction takes seconds, too long for a slider: the preview stays by magnitude.
      const note = $('prune-reconstruct').checked ? ' This is pruning by magnitude: reconstruction takes seconds, so the preview leaves it out, and the prune itself will do better.' : '';
      $('prune-preview-summary').textContent = `At ${k} %: the pruned network agrees with the dense one on ${agree} of ${items.length} (${p.millis.toFixed(0)} ms).${note}`;
    } catch (e) {
      if (mine === seq) $('prune-preview-summary').textContent = `No preview: ${e.message}`;
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(update, 60);
  }

  $('prune-form').addEventListener('input', schedule);
  // The pad calls update() after each drawing it shows, so the pad's entry is never stale.
  return { update: schedule };
}
