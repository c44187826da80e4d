// The two faces of the engine agree: the wasm Lab (the built bundle in www/pkg/, run in Node on
// the CPU backend) and the CLI (`prunelab`) report a pruning with the same fields, and the
// generated TypeScript declarations cover every method the page's API list names.
//
//   node --test tests/faces.test.mjs      (after scripts/build-web.sh and a release build)
//
// PRUNELAB: the CLI binary (default: $CARGO_TARGET_DIR/release/prunelab, with CARGO_TARGET_DIR
// defaulting to ~/.cache/prunelab-target, as scripts/test.sh builds it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { METHODS } from '../www/api.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PKG = join(ROOT, 'www', 'pkg');
const SUBSET = join(ROOT, 'www', 'data', 'subset');
const CLI = process.env.PRUNELAB || join(process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'prunelab-target'), 'release', 'prunelab');
const DEFAULT_MODEL = join(ROOT, 'www', 'models', 'default.plab');

/** The Lab class from the bundle, instantiated synchronously (no fetch in Node). */
async function loadLab() {
  const glue = await import(join(PKG, 'prunelab.js'));
  glue.initSync({ module: readFileSync(join(PKG, 'prunelab_bg.wasm')) });
  return glue.Lab;
}

const subsetFiles = () => ({
  trainImages: readFileSync(join(SUBSET, 'train-images-idx3-ubyte')),
  trainLabels: readFileSync(join(SUBSET, 'train-labels-idx1-ubyte')),
  testImages: readFileSync(join(SUBSET, 't10k-images-idx3-ubyte')),
  testLabels: readFileSync(join(SUBSET, 't10k-labels-idx1-ubyte')),
});

const toU8 = (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

test("the CLI's prune --json and the Lab's prune result have the same fields and counts", async () => {
  const Lab = await loadLab();
  const lab = await Lab.create({ backend: 'cpu' });
  lab.importModel(toU8(readFileSync(DEFAULT_MODEL)));
  const files = subsetFiles();
  lab.loadDataset(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, toU8(v)])));
  const web = await lab.pruneWeights(90, { scope: 'global' });

  const out = execFileSync(CLI, ['prune', '--model-file', DEFAULT_MODEL, '--method', 'weight', '--sparsity', '90', '--scope', 'global', '--data', SUBSET, '--json'], { encoding: 'utf8' });
  const cli = JSON.parse(out);

  const webKeys = Object.keys(web).sort();
  for (const k of webKeys) assert.ok(k in cli, `the CLI's prune --json lacks "${k}"`);
  const extra = Object.keys(cli).filter((k) => !(k in web)).sort();
  assert.deepEqual(extra, ['compact', 'dense_accuracy'], 'the CLI adds only the dense accuracy and the compaction');
  assert.deepEqual(Object.keys(web.spec).sort(), Object.keys(cli.spec).sort());
  assert.deepEqual(Object.keys(web.sparse_sizes).sort(), Object.keys(cli.sparse_sizes).sort());
  assert.deepEqual(Object.keys(web.layers[0]).sort(), Object.keys(cli.layers[0]).sort());
  // The same pruning of the same model: the same counts, whichever face ran it.
  for (const k of ['removed', 'nonzero_params', 'total_params']) assert.equal(web[k], cli[k], k);
  assert.deepEqual(web.layers, cli.layers);
  assert.ok(Math.abs(web.accuracy - cli.accuracy) <= 0.01, `accuracy ${web.accuracy} (Lab) vs ${cli.accuracy} (CLI)`);
});

test('the generated .d.ts declares every Lab method of the API list and every type they name', () => {
  const dts = readFileSync(join(PKG, 'prunelab.d.ts'), 'utf8');
  const cls = dts.slice(dts.indexOf('export class Lab'));
  const body = cls.slice(0, cls.indexOf('\n}\n')).replace(/\/\*[\s\S]*?\*\//g, '');
  const methods = Object.entries(METHODS).filter(([, f]) => !f.worker).map(([name]) => name);
  assert.ok(methods.length >= 20, `only ${methods.length} methods in www/api.js`);
  for (const m of methods) assert.match(body, new RegExp(`\\n\\s+(static )?${m}\\(`), `Lab.${m} is not declared`);
  // Every capitalised type name the class mentions is declared in the file (or built in).
  const builtIn = new Set(['Promise', 'Lab', 'Float32Array', 'Uint8Array', 'Array', 'Function', 'Record', 'Symbol']);
  const named = new Set([...body.matchAll(/\b([A-Z][A-Za-z0-9]+)\b/g)].map((m) => m[1]).filter((n) => !builtIn.has(n)));
  for (const t of ['TrainOutcome', 'PruneReport', 'CompactReport', 'SweepReport', 'Evaluation', 'LabInfo', 'Progress']) named.add(t);
  for (const t of named) assert.match(dts, new RegExp(`export (interface|type) ${t}\\b`), `type ${t} is not declared`);
});
