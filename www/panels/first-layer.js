// Inside the first layer: the strongest first-layer units as images of their incoming weights
// (the MLP's 28×28, the CNN's filters), orange for positive and blue for negative, what the
// pruning removed in grey (a removed unit faded), and for the MLP how many weights survive from
// each input pixel. Redrawn whenever the model changes. DOM only; the Lab computes the view.

import { $, el, int } from '../format.js';

/** Paints `weights` (side × side, first channel) on a canvas: sign as colour, size as strength. */
function paintUnit(canvas, unit, side, scale) {
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const v = Math.max(-1, Math.min(1, unit.weights[i] / scale));
    const a = Math.round(255 * Math.abs(v));
    const rgb = !unit.kept[i] ? [150, 150, 150] : v >= 0 ? [255, 255 - a * 0.55, 255 - a] : [255 - a, 255 - a * 0.45, 255];
    img.data.set([...rgb, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}

/** Paints the survivors map: white where every weight from the pixel survives, black where none. */
function paintSurvivors(canvas, survivors, total) {
  canvas.width = 28;
  canvas.height = 28;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(28, 28);
  survivors.forEach((n, i) => {
    const g = Math.round((255 * n) / Math.max(1, total));
    img.data.set([g, g, g, 255], i * 4);
  });
  ctx.putImageData(img, 0, 0);
}

export function setupFirstLayer(page) {
  const { state, client } = page;
  let seq = 0;

  async function update() {
    const box = $('first-layer');
    box.hidden = !state.model?.model;
    if (box.hidden) return;
    const mine = ++seq;
    try {
      const f = await client.firstLayer(64);
      if (mine !== seq) return;
      // One colour scale for all units: the largest |w| shown.
      const scale = Math.max(1e-9, ...f.units.map((u) => Math.max(...u.weights.map(Math.abs)))) * 0.6;
      $('first-layer-units').replaceChildren(
        ...f.units.map((u) => {
          const c = el('canvas', null, u.removed ? 'unit removed' : 'unit');
          paintUnit(c, u, f.side, scale);
          const gone = u.kept.filter((k) => !k).length;
          c.setAttribute('role', 'img');
          c.setAttribute('aria-label', `unit ${u.index}, norm ${u.norm.toFixed(2)}${u.removed ? ', removed' : gone ? `, ${gone} weights pruned` : ''}`);
          return c;
        }),
      );
      const removed = f.units.filter((u) => u.removed).length;
      $('first-layer-caption').textContent = `The ${f.units.length} strongest of ${int(f.units_total)} first-layer units (${f.side}×${f.side}), by the norm of their incoming weights; orange positive, blue negative, grey pruned${removed ? `; ${removed} of these removed (faded)` : ''}.`;
      state.prune.firstLayer = { units: f.units.map((u) => u.index), total: f.units_total, removed, survivors: f.survivors };
      const map = $('first-layer-survivors');
      map.hidden = !f.survivors;
      if (f.survivors) {
        paintSurvivors($('first-layer-map'), f.survivors, f.units_total);
        const border = f.survivors.filter((_, i) => [0, 27].includes(i % 28) || [0, 27].includes(Math.floor(i / 28)));
        const centre = f.survivors.filter((_, i) => Math.abs((i % 28) - 13.5) < 7 && Math.abs(Math.floor(i / 28) - 13.5) < 7);
        const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
        $('first-layer-map-caption').textContent = `Weights left from each input pixel (white: all ${int(f.units_total)}): ${mean(border).toFixed(0)} on average on the border, ${mean(centre).toFixed(0)} in the centre.`;
      }
    } catch (e) {
      if (mine === seq) $('first-layer-caption').textContent = `No view of the first layer: ${e.message}`;
    }
  }

  return { update };
}
