// The drawing panel: a pad (mouse, touch, pen) classified live by the model in use, what the
// network sees (28×28), the 10 probabilities, and random test images with their true label.

import { DrawPad, paintImage } from '../draw.js';
import { drawProbabilities } from '../charts.js';
import { $, pct } from '../format.js';

export function setupDraw(page) {
  const { state, client, showError, clearError } = page;
  let seq = 0; // only the latest classification is shown
  let debounce = 0;

  async function classifyNow() {
    clearTimeout(debounce);
    const mine = ++seq;
    const input = pad.input();
    paintImage($('seen'), input ?? new Float32Array(784), { unit: true });
    if (!input) {
      $('draw-probs').replaceChildren();
      $('draw-guess').textContent = 'Draw something.';
      state.draw.probs = null;
      return;
    }
    try {
      const probs = await client.classify(input);
      if (mine !== seq) return;
      clearError('draw');
      const names = state.classNames;
      const best = drawProbabilities($('draw-probs'), probs, names);
      const truth = state.draw.source?.label != null && pad.image ? ` (true label: ${names[state.draw.source.label]})` : '';
      $('draw-guess').textContent = `Looks like: ${names[best]}, ${pct(probs[best])}${truth}`;
      state.draw.probs = Array.from(probs);
      state.draw.classified++;
    } catch (e) {
      if (mine === seq) showError('draw', e);
    }
  }

  function changed(kind) {
    if (kind !== 'image') state.draw.source = { kind: 'drawing' };
    clearTimeout(debounce);
    if (kind === 'stroke') debounce = setTimeout(classifyNow, 150);
    else classifyNow();
  }

  async function randomTestImage() {
    clearError('draw');
    if (state.data.status !== 'loaded') {
      if (state.data.status === 'loading') return showError('draw', 'The test images are still downloading; try again in a moment.');
      if (!(await page.panels.data.load())) return showError('draw', 'The test images could not be loaded: see the data panel.');
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

  const pad = new DrawPad($('pad'), { brush: Number($('brush').value), onChange: changed });
  $('brush').addEventListener('input', (e) => (pad.brush = Number(e.target.value)));
  $('draw-undo').addEventListener('click', () => pad.undo());
  $('draw-clear').addEventListener('click', () => pad.clear());
  $('draw-random').addEventListener('click', randomTestImage);
  classifyNow();
  /** refresh: the model changed, so classify what is on the pad again. */
  return { refresh: () => !pad.isEmpty() && classifyNow() };
}
