// The drawing panel: a pad (mouse, touch, pen) classified live by the model in use, what the
// network sees (28×28), the 10 calibrated probabilities and whether the model is sure; test
// images and drawings from the drawn-garment set with their true label; saving a drawing.

import { DrawPad, paintImage } from '../draw.js';
import { drawProbabilities } from '../charts.js';
import { $, el, pct } from '../format.js';

/** The drawn-garment set the page ships (drawings/README.md). */
const DRAWING_FILES = ['drawings/generated.json', 'drawings/hand.json'];

export function setupDraw(page) {
  const { state, client, showError, clearError } = page;
  const d = state.draw;
  let seq = 0; // only the latest classification is shown
  let debounce = 0;
  let drawings = null; // the drawn-garment set, fetched on first use

  /** Which network answers: the drawing model when the Lab has one and it is chosen. */
  const classifier = () => ($('draw-model').value === 'drawings' && state.drawingModel?.ok ? 'drawings' : 'in_use');

  /** The worker's report on models/drawings.plab: without it, only the model in use is offered. */
  function setDrawingModel(r) {
    const option = $('draw-model').querySelector('option[value="drawings"]');
    option.disabled = !r?.ok;
    if (r?.ok) option.textContent = `the drawing model (${r.info.arch}, trained for drawings)`;
    else $('draw-model').value = 'in_use';
  }

  /** What the pad says: a class when the model is sure, else "not sure" and why. */
  function describe(v, names) {
    const name = names[v.class];
    if (v.certainty === 'sure') return `Looks like: ${name}, ${pct(v.confidence)}`;
    if (v.certainty === 'blot') return 'Too small to read: draw the garment larger than the brush';
    if (v.certainty === 'unfamiliar') return `Not sure: this is unlike the images it learnt from (closest: ${name}, ${pct(v.confidence)})`;
    const second = v.probabilities.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0])[1];
    return `Not sure: ${name} (${pct(v.confidence)}) or ${names[second[1]]} (${pct(second[0])})`;
  }

  async function classifyNow() {
    clearTimeout(debounce);
    const mine = ++seq;
    d.latest = mine;
    const image = pad.imageInput();
    const drawing = pad.drawing();
    if (!image && !drawing) return blank();
    try {
      let verdict = null;
      const options = { model: classifier() };
      if (image) {
        paintImage($('seen'), image, { unit: true });
        d.input = Array.from(image, (v) => Math.round(v * 255));
        verdict = await client.classify(image, options);
      } else {
        const r = await client.classifyDrawing(drawing, options);
        if (mine !== seq) return;
        if (!r) return blank();
        paintImage($('seen'), r.input);
        d.input = Array.from(r.input);
        verdict = r.verdict;
      }
      if (mine !== seq) return;
      clearError('draw');
      const names = state.classNames;
      drawProbabilities($('draw-probs'), verdict.probabilities, names);
      const truth = d.source?.label != null ? ` (true label: ${names[d.source.label]})` : '';
      $('draw-guess').textContent = describe(verdict, names) + truth;
      $('draw-guess').classList.toggle('unsure', verdict.certainty !== 'sure');
      d.verdict = verdict;
      d.probs = Array.from(verdict.probabilities);
      await compare(mine, image, drawing, verdict);
      d.classified++;
      d.shown = mine; // the pad's latest state is on screen when shown === latest
      page.panels.preview?.update(); // its "pad" entry shows what the pad now holds
      fillLabels();
      if (!image) $('draw-label').value = String(d.source?.label ?? verdict.class);
    } catch (e) {
      if (mine === seq) showError('draw', e);
    }
  }

  /** With a pruned model in use, the dense model's answer beside it. */
  async function compare(mine, image, drawing, pruned) {
    d.dense = null;
    if (!state.model?.model?.pruned || classifier() !== 'in_use') return ($('draw-compare').hidden = true);
    const options = { model: 'dense' };
    const dense = image ? await client.classify(image, options) : (await client.classifyDrawing(drawing, options))?.verdict;
    if (mine !== seq || !dense) return;
    const names = state.classNames;
    const say = (v) => `${names[v.class]} ${pct(v.confidence)}`;
    d.dense = dense;
    $('draw-compare').textContent = `Dense model: ${say(dense)} · pruned (${state.model.model.pruned.method}, ${state.model.model.pruned.sparsity} %): ${say(pruned)}${dense.class === pruned.class ? '' : ' (they disagree)'}`;
    $('draw-compare').hidden = false;
  }

  function blank() {
    $('draw-compare').hidden = true;
    paintImage($('seen'), new Float32Array(784), { unit: true });
    $('draw-probs').replaceChildren();
    $('draw-guess').textContent = 'Draw something.';
    $('draw-guess').classList.remove('unsure');
    d.probs = null;
    d.verdict = null;
    d.input = null;
    page.panels.preview?.update();
  }

  function changed(kind) {
    if (kind !== 'image' && kind !== 'drawing') d.source = { kind: 'drawing' };
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
    await showTestImage(Math.floor(Math.random() * (state.data.info?.test ?? 10000)), { scroll: false });
  }

  /** Test image `index` on the pad, with its true label. */
  async function showTestImage(index, { scroll = true } = {}) {
    clearError('draw');
    try {
      const t = await client.testImage(index);
      d.source = { kind: 'test', index, label: t.label };
      pad.showImage(t.pixels);
      if (scroll) $('panel-draw').scrollIntoView({ behavior: 'smooth', block: 'start' });
    } catch (e) {
      showError('draw', e);
    }
  }

  /** One drawing of the drawn-garment set, at random, with its label. */
  async function sampleDrawing() {
    clearError('draw');
    try {
      if (!drawings) {
        const files = await Promise.all(DRAWING_FILES.map(async (f) => {
          const r = await fetch(f);
          if (!r.ok) throw new Error(`${f}: HTTP ${r.status}`);
          return r.json();
        }));
        drawings = files.flatMap((f) => f.drawings.map((x) => ({ ...x, side: f.canvas })));
      }
      const x = drawings[Math.floor(Math.random() * drawings.length)];
      d.source = { kind: 'set', id: x.id, label: x.label };
      pad.showDrawing(x);
    } catch (e) {
      drawings = null;
      showError('draw', `The drawn-garment set could not be loaded (${e.message}).`);
    }
  }

  /** Downloads the pad's strokes as a drawings file (drawings/README.md) of one drawing. */
  function save() {
    const drawing = pad.drawing();
    if (!drawing) return showError('draw', 'Draw something first: there is nothing to save.');
    fillLabels();
    const label = Number($('draw-label').value);
    const file = {
      format: 'prunelab-drawings',
      version: 1,
      canvas: drawing.side,
      drawings: [{ id: `pad-${new Date().toISOString().replace(/[:.]/g, '-')}`, label, class: state.classNames[label], split: 'dev', source: 'hand', strokes: drawing.strokes }],
    };
    const a = Object.assign(document.createElement('a'), {
      href: URL.createObjectURL(new Blob([JSON.stringify(file)], { type: 'application/json' })),
      download: `drawing-${state.classNames[label].replace(/\W+/g, '-').toLowerCase()}.json`,
    });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  /** The class list of the "This is a" menu, once the Lab has named the classes. */
  function fillLabels() {
    if ($('draw-label').options.length || !state.classNames) return;
    $('draw-label').replaceChildren(...state.classNames.map((n, i) => Object.assign(el('option', n), { value: String(i) })));
  }

  const pad = new DrawPad($('pad'), { brush: Number($('brush').value), onChange: changed });
  $('brush').addEventListener('input', (e) => (pad.brush = Number(e.target.value)));
  $('draw-undo').addEventListener('click', () => pad.undo());
  $('draw-clear').addEventListener('click', () => pad.clear());
  $('draw-random').addEventListener('click', randomTestImage);
  $('draw-sample').addEventListener('click', sampleDrawing);
  $('draw-save').addEventListener('click', save);
  $('draw-model').addEventListener('change', () => !pad.isEmpty() && classifyNow());
  classifyNow();
  /** refresh: the model changed, so classify what is on the pad again. */
  return { refresh: () => !pad.isEmpty() && classifyNow(), setDrawingModel, showTestImage, pad };
}
