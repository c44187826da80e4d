// The training panel: trains the MLP or the CNN with a live loss/accuracy chart, ETA and
// cancel; then per-class accuracy, the confusion matrix and misclassified test images. Also the
// model file: download the model in use, or load a .plab file.

import { confusionCell, drawBars, drawConfusion } from '../charts.js';
import { imageCanvas } from '../draw.js';
import { $, el, int, mb, numberField, pct, seconds } from '../format.js';

/** The largest file "Load a model file" reads: ten times the largest model the lab makes. */
const MAX_MODEL_FILE = 100 * 1024 * 1024;

export function setupTrain(page) {
  const { state, client, charts, job, announce, showError, clearError } = page;
  const t = state.train;

  /** The form's TrainOptions; throws (with the field's name) when a field is invalid. */
  const options = () => ({
    model: $('train-model').value,
    epochs: numberField('train-epochs', 'Epochs') ?? 1,
    batchSize: numberField('train-batch', 'Batch size'),
    lr: numberField('train-lr', 'Learning rate'),
    limit: numberField('train-limit', 'Subset size'),
    seed: numberField('train-seed', 'Seed'),
    augment: $('train-augment').checked || undefined,
  });

  async function train(event) {
    event.preventDefault();
    let o;
    try {
      o = options();
    } catch (e) {
      return showError('train', e);
    }
    Object.assign(t, { status: 'running', curve: { loss: [], accuracy: [] }, result: null, epochs: [] });
    charts.train.reset();
    $('train-progress').value = 0;
    $('train-stats').textContent = 'Starting…';
    announce(`Training the ${o.model.toUpperCase()}…`);
    const start = performance.now();
    let lastText = 0;
    const onProgress = (p) => {
      if (p.type === 'epoch') {
        t.epochs.push(p);
        announce(`Epoch ${p.epoch} done: loss ${p.loss.toFixed(3)}, accuracy ${pct(p.accuracy)}, ${int(p.samples_per_sec)} samples/s.`);
        return;
      }
      if (p.type !== 'batch') return;
      t.curve.loss.push(p.loss);
      t.curve.accuracy.push(p.accuracy);
      charts.train.add(p.loss, p.accuracy);
      const done = ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches);
      $('train-progress').value = done;
      const now = performance.now();
      if (now - lastText > 250) {
        lastText = now;
        const eta = ((now - start) / 1000) * ((1 - done) / done);
        $('train-stats').textContent = `Epoch ${p.epoch}/${p.epochs}, batch ${p.batch}/${p.batches}: loss ${p.loss.toFixed(3)}, accuracy ${pct(p.accuracy)}, ${int(p.samples_per_sec)} samples/s, about ${seconds(eta)} left`;
      }
    };
    const result = await job('train', 'train', () => client.train(o, onProgress), {
      describe: (e) => (e.kind === 'diverged' ? `${e.message}. The model in use did not change.` : undefined),
    });
    charts.train.flush();
    if (!result) {
      t.status = 'error';
      $('train-stats').textContent = '';
      return;
    }
    t.result = result;
    if (result.cancelled) {
      t.status = 'cancelled';
      $('train-stats').textContent = 'Cancelled: the previous model is still in use.';
      announce('Training cancelled; nothing changed.');
      return;
    }
    const last = result.epochs.at(-1);
    $('train-progress').value = 1;
    $('train-stats').textContent = `Done in ${seconds(result.seconds)}: ${result.arch}, ${int(result.params)} parameters${last ? `, ${int(last.samples_per_sec)} samples/s in the last epoch` : ''}.`;
    await showEvaluation(result.evaluation);
    t.status = 'done';
    page.panels.prune.resetView();
    announce(`Training done: test accuracy ${pct(result.evaluation?.accuracy ?? 0)}.`);
  }

  async function showEvaluation(ev) {
    if (!ev) return;
    const names = state.classNames;
    $('train-results').hidden = false;
    $('train-accuracy').textContent = `Test accuracy: ${pct(ev.accuracy, 2)} (loss ${ev.loss.toFixed(3)})`;
    drawBars($('train-perclass'), ev.per_class_accuracy.map((a, i) => ({ label: names[i], value: a })));
    drawConfusion($('train-confusion'), ev.confusion, names);
    evaluation = ev;
    confusionTable(ev.confusion, names);
    $('train-cell').hidden = true;
    $('train-missed').replaceChildren();
    if (!ev.predictions) return;
    try {
      const missed = await client.misclassified(Uint8Array.from(ev.predictions), 16);
      const figures = missed.map((m) => {
        const [truth, guess] = [names[m.label], names[m.predicted]];
        const cap = el('figcaption');
        cap.append(el('span', truth, 'truth'), el('span', `→ ${guess}`, 'guess'));
        const fig = el('figure');
        const b = el('button');
        b.type = 'button';
        b.className = 'image-button';
        b.title = 'Put it on the pad';
        b.append(imageCanvas(m.pixels, 0, `Test image ${m.index}: a ${truth}, predicted ${guess}; put it on the pad`));
        b.addEventListener('click', () => page.panels.draw.showTestImage(m.index));
        fig.append(b, cap);
        return fig;
      });
      $('train-missed').replaceChildren(...figures);
    } catch (e) {
      showError('train', e);
    }
  }

  /** The matrix as a table whose non-zero cells are buttons: the keyboard's way in. */
  function confusionTable(confusion, names) {
    const table = el('table');
    table.createCaption().textContent = 'Test images by true class (rows) and predicted class (columns)';
    const head = table.createTHead().insertRow();
    head.append(Object.assign(el('th', 'true \\ predicted'), { scope: 'col' }), ...names.map((n) => Object.assign(el('th', n), { scope: 'col' })));
    const body = table.createTBody();
    confusion.forEach((row, t) => {
      const tr = body.insertRow();
      tr.append(Object.assign(el('th', names[t]), { scope: 'row' }));
      row.forEach((count, p) => {
        const td = tr.insertCell();
        if (!count) return (td.textContent = '0');
        const b = el('button', String(count));
        b.type = 'button';
        b.setAttribute('aria-label', `${count} test images of ${names[t]} predicted ${names[p]}`);
        b.addEventListener('click', () => showCell(t, p));
        td.append(b);
      });
    });
    $('train-confusion-table').replaceChildren(table);
  }

  /** Every test image of one confusion cell, each a button that puts it on the pad. */
  async function showCell(label, predicted) {
    if (!evaluation?.predictions) return;
    const names = state.classNames;
    const count = evaluation.confusion[label][predicted];
    try {
      const images = await client.cellImages(Uint8Array.from(evaluation.predictions), label, predicted, count);
      const buttons = images.map((m) => {
        const b = el('button');
        b.type = 'button';
        const text = `Test image ${m.index}: a ${names[m.label]}, predicted ${names[m.predicted]}; put it on the pad`;
        b.title = text;
        b.append(imageCanvas(m.pixels, 0, text));
        b.addEventListener('click', () => page.panels.draw.showTestImage(m.index));
        return b;
      });
      $('train-cell-h').textContent = `${names[label]} predicted as ${names[predicted]}: ${images.length} test image${images.length === 1 ? '' : 's'}`;
      $('train-cell-images').replaceChildren(...buttons);
      $('train-cell').hidden = false;
      state.train.cell = { label, predicted, count, shown: images.length };
      announce($('train-cell-h').textContent);
    } catch (e) {
      showError('train', e);
    }
  }

  async function exportModel() {
    clearError('train');
    try {
      const bytes = await client.exportModel(true);
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
      const a = el('a');
      Object.assign(a, { href: url, download: 'prunelab-model.plab' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      announce(`Model file ready: ${mb(bytes.length)}.`);
    } catch (e) {
      showError('train', e);
    }
  }

  async function importModel(event) {
    const file = event.target.files?.[0];
    if (!file) return;
    const info = await job('importModel', 'train', async () => {
      // Read nothing of a file no lab model comes near (the largest, the dense MLP in f32, is 9.6 MB).
      if (file.size > MAX_MODEL_FILE) throw new Error(`${file.name} is ${mb(file.size)}: no model of the lab is that large, so it is not one. The model in use did not change.`);
      return client.importModel(new Uint8Array(await file.arrayBuffer()));
    });
    event.target.value = '';
    if (info) {
      page.panels.prune.resetView();
      announce(`Loaded ${file.name}: ${info.arch}.`);
    }
  }

  let evaluation = null; // the evaluation on show: its confusion matrix and predictions
  $('train-confusion').addEventListener('click', (e) => {
    const cell = confusionCell($('train-confusion'), e);
    if (cell) showCell(...cell);
  });
  $('train-form').addEventListener('submit', train);
  $('train-cancel').addEventListener('click', () => client.cancel());
  $('model-export').addEventListener('click', exportModel);
  $('model-import').addEventListener('change', importModel);
  return {};
}
