// Compares the CPU backend's speed of two or more served builds of the lab in one browser,
// alternating between them three times, so that a machine whose speed drifts (this one halves
// from hour to hour) does not decide the comparison:
//
//   node scripts/ab-web.mjs http://127.0.0.1:8094 http://127.0.0.1:8095
//
// Each URL serves a www/ folder with its data/ (any static server). Per round and build: MLP
// training on 2,048 images and CNN on 768 (after a short warm-up each), in samples/s, and the
// mean of 30 classifications in ms (of the default model); with AB_SWEEP=1 also the seconds of
// the 20-point two-method sweep. The CPU bundle is whichever the worker picks there (`threads`:
// the threaded one on a server that sends COOP/COEP). One JSON line per run; AB_ROUNDS for
// another number of rounds.
//
// AB_MLP_RUNS=256,2048,2048,20000,2048,2048 instead times those MLP runs one after another in
// a fresh page (`mlp_runs`, samples/s each), nothing else: how the speed settles over the first
// seconds (README, Threads in the page). `all` is one run on the whole training set, what the
// Train button's first epoch gets.

import { chromium } from 'playwright-core';

const bases = process.argv.slice(2).map((b) => b.replace(/\/+$/, ''));
if (bases.length < 2) throw new Error('usage: node scripts/ab-web.mjs URL URL [URL…]');
// AB_CHROMIUM_ARGS: more Chromium flags, space-separated (e.g. --js-flags=--no-wasm-dynamic-tiering).
const extraArgs = process.env.AB_CHROMIUM_ARGS?.split(' ').filter(Boolean) ?? [];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', ...extraArgs] });

/** AB_MLP_RUNS as image counts (null: the whole set), or null. */
const mlpRuns = process.env.AB_MLP_RUNS?.split(',').map((n) => {
  if (n.trim() === 'all') return null;
  const v = Number(n);
  if (!Number.isInteger(v) || v < 64) throw new Error(`AB_MLP_RUNS: ${n} is not 'all' or a whole number ≥ 64`);
  return v;
}) ?? null;

/** One run on `base`, in a page of its origin with nothing else loaded. */
async function run(base) {
  const page = await browser.newPage();
  await page.goto(`${base}/no-page-here`);
  const result = await page.evaluate(async ([base, sweep, runs]) => {
    const { LabClient } = await import(`${base}/lab-client.js`);
    const lab = new LabClient();
    try {
      await lab.create({ backend: 'cpu', keep: false });
      await lab.loadDefaultModel(); // the model the classifications use
      await lab.loadData({ base: `${base}/data/` });
      // One epoch's samples/s: ask for two and cancel at the first summary (no evaluation).
      const speed = async (model, limit) => {
        const r = await lab.train({ model, epochs: 2, limit }, (p) => p.type === 'epoch' && lab.cancel());
        return Math.round(r.epochs[0].samples_per_sec);
      };
      if (runs) {
        const mlp_runs = [];
        for (const limit of runs) mlp_runs.push(await speed('mlp', limit ?? undefined));
        return { threads: (await lab.backend()).threads, mlp_runs };
      }
      await speed('mlp', 256);
      const mlp = await speed('mlp', 2048);
      await speed('cnn', 128);
      const cnn = await speed('cnn', 768);
      const image = new Float32Array(784).fill(0.3);
      await lab.classify(image);
      const t = performance.now();
      for (let i = 0; i < 30; i++) await lab.classify(image);
      const out = { threads: (await lab.backend()).threads, mlp_samples_per_sec: mlp, cnn_samples_per_sec: cnn, classify_ms: Math.round(((performance.now() - t) / 30) * 100) / 100 };
      if (sweep) {
        const t0 = performance.now();
        await lab.sweep({ methods: ['weight', 'neuron'] });
        out.sweep_seconds = Math.round(performance.now() - t0) / 1000;
      }
      return out;
    } finally {
      lab.terminate();
    }
  }, [base, Boolean(process.env.AB_SWEEP), mlpRuns]);
  await page.close();
  return result;
}

let code = 0;
try {
  for (let round = 1; round <= (Number(process.env.AB_ROUNDS) || 3); round++) {
    for (const base of bases) console.log(JSON.stringify({ round, base, ...(await run(base)) }));
  }
} catch (e) {
  console.error(`ab-web: FAILED: ${e.message}`);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
