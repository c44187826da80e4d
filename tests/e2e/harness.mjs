// What the end-to-end tests share: named checks that print a line each, waiting on the page's
// state with a useful message, screenshots, and Chromium (playwright-core driving the system's
// /usr/bin/chromium; no browser download).

import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const UPDATE_DOCS = process.argv.includes('--update-docs') || process.env.PRUNELAB_UPDATE_DOCS === '1';
export const MIN = 60_000;

/** PRUNELAB_ONLY=<regex>: run only the checks whose names match (while working on one). */
const ONLY = process.env.PRUNELAB_ONLY ? new RegExp(process.env.PRUNELAB_ONLY) : null;
const counts = { passed: 0, failed: 0 };

/** Runs one named check; prints ok or FAIL with its detail and time. Resolves to whether it passed. */
export async function check(name, fn) {
  if (ONLY && !ONLY.test(name)) return true;
  const t0 = Date.now();
  const took = () => `(${((Date.now() - t0) / 1000).toFixed(1)} s)`;
  try {
    const detail = await fn();
    counts.passed++;
    console.log(`ok   ${name}${detail ? `: ${detail}` : ''} ${took()}`);
    return true;
  } catch (e) {
    counts.failed++;
    console.log(`FAIL ${name}: ${e.message.split('\n')[0]} ${took()}`);
    return false;
  }
}

/** A failure outside any check (the run stops). */
export function fail(e) {
  counts.failed++;
  console.log(`FAIL ${e.message}`);
}

export function assert(ok, message) {
  if (!ok) throw new Error(message);
}

/** Saves a screenshot as test-results/screenshots/<name>; with --update-docs also as docs/<docsPath>. */
export async function shot(target, name, docsPath, options = {}) {
  await mkdir(SHOTS, { recursive: true });
  const path = join(SHOTS, name);
  await target.screenshot({ path, ...options });
  if (UPDATE_DOCS && docsPath) await copyFile(path, join(ROOT, 'docs', docsPath));
  return UPDATE_DOCS && docsPath ? `docs/${docsPath}` : `test-results/screenshots/${name}`;
}

export const state = (page) => page.evaluate(() => window.pruneLab.state);

/** Waits until fn(state) is true in the page (or frame); on timeout, says what the state was. */
export async function until(page, fn, timeout, what, arg = null) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 250 });
  } catch {
    const s = await page.evaluate(() => window.pruneLab?.state).catch(() => null);
    const errors = s ? ['header', 'data', 'train', 'prune', 'draw'].map((p) => s[p]?.error && `${p}: ${s[p].errorKind} ${s[p].error}`).filter(Boolean) : [];
    const status = await page.textContent('#status').catch(() => '');
    const where = s ? `busy ${s.busy}, data ${s.data.status}, train ${s.train.status}, prune ${s.prune.status}; "${status}"` : 'no state';
    throw new Error(`timed out after ${timeout / 1000} s waiting for ${what} (${where})${errors.length ? `; page errors: ${errors.join(' | ')}` : ''}`);
  }
}

/** A T-shirt outline, as points from 0 to 1 across the pad. */
export const SHIRT = [[0.35, 0.15], [0.65, 0.15], [0.9, 0.35], [0.78, 0.45], [0.72, 0.4], [0.72, 0.88], [0.28, 0.88], [0.28, 0.4], [0.22, 0.45], [0.1, 0.35], [0.35, 0.15], [0.5, 0.5], [0.4, 0.8]];

/** Drags the shirt across the pad in `frame` (a page or an iframe's frame); `page` moves the mouse. */
export async function drawShirt(page, frame = page) {
  await frame.locator('#pad').scrollIntoViewIfNeeded();
  const box = await frame.locator('#pad').boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(SHIRT[0]));
  await page.mouse.down();
  for (const p of SHIRT.slice(1)) await page.mouse.move(...at(p), { steps: 6 });
  await page.mouse.up();
}

/** Headless Chromium with the flags that keep it off the network (and WebGPU on, for the page). */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
}

/** Prints the tally and exits, non-zero when a check failed. */
export function finish(label) {
  console.log(`\n${label}: ${counts.passed} passed, ${counts.failed} failed`);
  process.exit(counts.failed ? 1 : 0);
}
