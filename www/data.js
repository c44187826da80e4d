// Fashion-MNIST for the worker: the four gzipped IDX files, from the browser's Cache API when a
// verified copy is there, else streamed from this site with progress per file. data/manifest.json
// (scripts/data-manifest.sh) gives each file's size and SHA-256: a download must match it before
// the Lab sees it, and it is kept under that SHA-256, so a new dataset never mixes with an old one.
// The Rust side (Lab.loadDataset) un-gzips and validates the bytes.
// Failures name the file: a download error has kind 'download', a download that differs from the
// manifest 'bad_download', a file the Lab cannot read 'data'; all carry `file` (the name without
// .gz), and explainDataError says it for a person.

import { labError } from './api.js';

/** Lab.loadDataset field → file name under data/. */
export const DATA_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
};

/** The Cache API store of verified data files (the page's "forget cached data" deletes it). */
export const DATA_CACHE = 'prunelab-data-v1';

export const SETUP_HINT = 'Run bash scripts/setup-data.sh to install the data.';

/** Reads one response body chunk by chunk; onProgress(loaded, total) after each chunk. */
async function readBody(response, onProgress) {
  const total = Number(response.headers.get('Content-Length')) || 0;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress(bytes.length, total || bytes.length);
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  onProgress(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress(loaded, total);
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  onProgress(loaded, total || loaded);
  return bytes;
}

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
const sha256 = async (bytes) => hex(await crypto.subtle.digest('SHA-256', bytes));
const reason = (e) => `${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e?.message ?? e}`;

/**
 * The manifest from the site, or the copy kept with the cached files when the site cannot be
 * reached (offline). Resolves to {manifest, note}; manifest is null when neither exists.
 */
async function readManifest(base, store) {
  const url = new URL('manifest.json', base);
  try {
    const response = await fetch(url, { cache: 'no-cache' });
    if (response.ok) {
      const manifest = await response.json();
      if (!Array.isArray(manifest?.files)) throw new Error('it has no "files" list');
      await store?.put(url, new Response(JSON.stringify(manifest))).catch(() => {});
      return { manifest, note: null };
    }
    if (response.status !== 404) throw new Error(`HTTP ${response.status}`);
    return { manifest: null, note: 'the site has no data/manifest.json, so downloads are not checked or cached' };
  } catch (e) {
    const kept = await store?.match(url).catch(() => undefined);
    if (kept) return { manifest: await kept.json(), note: null };
    return { manifest: null, note: `data/manifest.json could not be read (${reason(e)}), so downloads are not checked or cached` };
  }
}

/** The Cache API store, or {store: null, note} saying why the browser refused it. */
async function openStore() {
  if (typeof caches === 'undefined') return { store: null, note: 'this browser gives no Cache API here (not a secure context?)' };
  try {
    return { store: await caches.open(DATA_CACHE), note: null };
  } catch (e) {
    return { store: null, note: `the browser refused storage (${reason(e)}; a private window?)` };
  }
}

/** A download that is not the .gz the manifest names: says what the server did to it. */
function mismatch(file, bytes) {
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  const idx = bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 8;
  if (!gzip && idx) {
    return `data/${file} arrived un-gzipped: the server sent it with Content-Encoding: gzip, so the browser decompressed it. Serve .gz files as they are (application/gzip, no Content-Encoding)`;
  }
  if (!gzip && bytes[0] === 0x3c) return `data/${file} is an HTML page, not the data file: the server answered with a page of its own`;
  return `data/${file} does not match data/manifest.json (its SHA-256 differs): the file on the site is damaged, or not the one the manifest names`;
}

/** One file, from the cache when a copy with the manifest's SHA-256 is there, else the network. */
async function loadFile(base, file, entry, store, onProgress) {
  const key = entry && new URL(`${file}?sha256=${entry.sha256}`, base);
  if (store && key) {
    const hit = await store.match(key).catch(() => undefined);
    if (hit) {
      const bytes = new Uint8Array(await hit.arrayBuffer());
      if ((await sha256(bytes)) === entry.sha256) {
        onProgress(file, bytes.length, bytes.length, 'cache');
        return { bytes, source: 'cache' };
      }
      await store.delete(key).catch(() => {}); // damaged in storage: fetch it again
    }
  }
  const fail = (why) => labError(`data/${file} ${why}`, 'download', file.replace(/\.gz$/, ''));
  let response;
  try {
    response = await fetch(new URL(file, base));
  } catch (e) {
    throw fail(`could not be downloaded (${e.message})`);
  }
  if (!response.ok) throw fail(response.status === 404 ? 'is missing (HTTP 404)' : `could not be downloaded (HTTP ${response.status})`);
  const bytes = await readBody(response, (loaded, total) => onProgress(file, loaded, total, 'network'));
  let kept = null;
  if (entry) {
    if ((await sha256(bytes)) !== entry.sha256) throw labError(mismatch(file, bytes), 'bad_download', file.replace(/\.gz$/, ''));
    if (store) kept = await store.put(key, new Response(bytes)).then(() => null, (e) => reason(e));
  }
  return { bytes, source: 'network', notKept: kept };
}

/**
 * Loads the four files in parallel. onProgress(file, loaded, total, source) reports bytes
 * (total 0 when the server sent no Content-Length; source 'cache' or 'network'). Resolves to
 * {files: the loadDataset argument, sources: file → 'cache'|'network', cache: a sentence when
 * the files could not be kept for the next visit, else null}.
 */
export async function fetchDataset(base, onProgress) {
  const opened = await openStore();
  const { manifest, note } = await readManifest(base, opened.store);
  const keys = Object.keys(DATA_FILES);
  const store = manifest ? opened.store : null;
  const loaded = await Promise.all(keys.map((k) => {
    const file = DATA_FILES[k];
    return loadFile(base, file, manifest?.files.find((f) => f.name === file), store, onProgress);
  }));
  const refused = loaded.find((l) => l.notKept)?.notKept;
  const cache = note ?? opened.note ?? (refused ? `the browser would not keep them (${refused})` : null);
  return {
    files: Object.fromEntries(keys.map((k, i) => [k, loaded[i].bytes])),
    sources: Object.fromEntries(keys.map((k, i) => [DATA_FILES[k], loaded[i].source])),
    cache,
  };
}

/** Deletes the cached data files; resolves to whether there were any. */
export async function forgetCachedData() {
  if (typeof caches === 'undefined') return false;
  return caches.delete(DATA_CACHE);
}

const sentence = (m) => (/[.?!]$/.test(m) ? m : `${m}.`);

/** What the page says about a failed loadData: the file, what is wrong with it, and the fix. */
export function explainDataError(e) {
  if (e?.kind === 'download') return `${sentence(e.message)} ${SETUP_HINT}`;
  if (e?.kind === 'bad_download') return sentence(e.message); // says what the server did
  if (e?.kind !== 'data') return e?.message ?? String(e); // not about the files (e.g. busy)
  const what = e.file ? `data/${e.file}.gz is corrupt or not Fashion-MNIST` : 'The dataset could not be read';
  return `${what}: ${sentence(e.message)} ${SETUP_HINT}`;
}
