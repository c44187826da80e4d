// The data panel: a progress bar per Fashion-MNIST file while the worker streams them (or "from
// cache" when the browser kept them), what went wrong (which file, and the command that installs
// the data), whether the files are kept for the next visit, and a few test images per class.

import { DATA_FILES, explainDataError } from '../data.js';
import { $, el, int, mb, pct } from '../format.js';
import { imageCanvas } from '../draw.js';

export function setupData(page) {
  const { state, client, job, announce, showError } = page;

  for (const file of Object.values(DATA_FILES)) {
    const row = el('div', null, 'file-row');
    const id = `progress-${file.replace(/\W/g, '-')}`;
    const label = el('label', `data/${file}`);
    label.htmlFor = id;
    const bar = el('progress');
    Object.assign(bar, { id, max: 1, value: 0 });
    row.append(label, bar, el('span', 'waiting', 'file-bytes'));
    row.dataset.file = file;
    $('data-progress').append(row);
  }

  /** One file's bytes so far ({type: 'file', file, loaded, total, source}; total 0 when unknown). */
  function onProgress({ file, loaded, total, source }) {
    state.data.progress[file] = { loaded, total, source };
    state.data.events++;
    const row = $('data-progress').querySelector(`[data-file="${file}"]`);
    if (!row) return;
    const bar = row.querySelector('progress');
    if (total) {
      bar.max = total;
      bar.value = loaded;
    } else {
      bar.removeAttribute('value');
    }
    const bytes = total ? `${mb(loaded)} of ${mb(total)} (${pct(loaded / total, 0)})` : mb(loaded);
    row.querySelector('.file-bytes').textContent = source === 'cache' ? `${mb(total)}, from cache` : bytes;
  }

  /** Downloads and loads the dataset; resolves to whether it worked. */
  async function load() {
    state.data.status = 'loading';
    $('data-retry').hidden = true;
    $('data-summary').textContent = 'Downloading Fashion-MNIST…';
    announce('Downloading Fashion-MNIST…');
    // data/ beside the page (not the worker): a built site keeps its scripts in a folder of their own.
    const base = new URL('data/', location.href).href;
    const info = await job('loadData', 'data', () => client.loadData({ base }, onProgress), { describe: explainDataError });
    if (!info) {
      state.data.status = 'error';
      $('data-summary').textContent = 'No dataset: training, pruning and test images need it. The drawing pad still works with the model in use.';
      $('data-retry').hidden = false;
      return false;
    }
    state.data.info = info;
    const cached = Object.values(info.sources).filter((s) => s === 'cache').length;
    state.data.source = cached === 4 ? 'cache' : cached ? 'mixed' : 'network';
    const from = { cache: ' from cache (no download)', mixed: ` (${cached} of 4 files from cache)`, network: '' }[state.data.source];
    $('data-summary').textContent = `${int(info.train)} training and ${int(info.test)} test images loaded${from}.`;
    state.data.cacheNote = info.cache;
    $('data-cache').textContent = info.cache
      ? `Not kept for your next visit: ${info.cache}. The next visit downloads them again.`
      : 'Kept in this browser: the next visit loads them without downloading.';
    $('data-forget').hidden = Boolean(info.cache);
    announce(`Fashion-MNIST loaded${from}.`);
    try {
      await showSamples();
    } catch (e) {
      showError('data', e);
    }
    state.data.status = 'loaded';
    page.panels.preview?.update(); // its strip of test images is there now
    return true;
  }

  async function showSamples(perClass = 4) {
    const s = await client.sampleImages(perClass);
    const rows = state.classNames.map((name, c) => {
      const fig = el('figure', null, 'sample-row');
      fig.append(el('figcaption', name));
      s.labels.forEach((label, i) => {
        if (label === c) fig.append(imageCanvas(s.pixels, i * 784, `${name}, test image ${s.indices[i]}`));
      });
      return fig;
    });
    $('samples').replaceChildren(...rows);
  }

  async function forget() {
    try {
      const had = await client.forgetData();
      $('data-cache').textContent = had ? 'Forgotten: the next visit downloads the data again.' : 'Nothing was cached.';
      $('data-forget').hidden = true;
    } catch (e) {
      showError('data', e);
    }
  }

  $('data-retry').addEventListener('click', load);
  $('data-forget').addEventListener('click', forget);
  return { load };
}
