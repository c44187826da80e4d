// Fashion-MNIST download for the worker: streams the four gzipped IDX files from this origin,
// reporting bytes per file. The Rust side (Lab.loadDataset) un-gzips and validates the bytes.
// Failures name the file: a download error has kind 'download', a bad file the Lab's 'data';
// both carry `file` (the name without .gz), and explainDataError says it for a person.

import { labError } from './api.js';

/** Lab.loadDataset field → file name under data/. */
export const DATA_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
};

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

/** Fetches one file; a failure is a 'download' error naming the file. */
async function fetchFile(base, file, onProgress) {
  const url = new URL(file, base);
  const fail = (why) => labError(`data/${file} ${why}`, 'download', file.replace(/\.gz$/, ''));
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw fail(`could not be downloaded (${e.message})`);
  }
  if (!response.ok) throw fail(response.status === 404 ? 'is missing (HTTP 404)' : `could not be downloaded (HTTP ${response.status})`);
  return readBody(response, (loaded, total) => onProgress(file, loaded, total));
}

/**
 * Downloads the four files in parallel. onProgress(file, loaded, total) reports bytes;
 * total is 0 when the server sent no Content-Length. Resolves to the loadDataset argument.
 */
export async function fetchDataset(base, onProgress) {
  const keys = Object.keys(DATA_FILES);
  const bytes = await Promise.all(keys.map((k) => fetchFile(base, DATA_FILES[k], onProgress)));
  return Object.fromEntries(keys.map((k, i) => [k, bytes[i]]));
}

const sentence = (m) => (/[.?!]$/.test(m) ? m : `${m}.`);

/** What the page says about a failed loadData: the file, what is wrong with it, and the fix. */
export function explainDataError(e) {
  if (e?.kind === 'download') return `${sentence(e.message)} ${SETUP_HINT}`;
  if (e?.kind !== 'data') return e?.message ?? String(e); // not about the files (e.g. busy)
  const what = e.file ? `data/${e.file}.gz is corrupt or not Fashion-MNIST` : 'The dataset could not be read';
  return `${what}: ${sentence(e.message)} ${SETUP_HINT}`;
}
