// Runs the page's bench (www/bench.html) in headless Chromium and prints its JSON result, with
// `first_visit` added: a visitor's first load of the lab (empty browser cache), the bytes that
// crossed the network and the time from navigation until the pad can classify, and until it
// has classified a drawing. Serves nothing itself: start a server on www/ (prunelab serve) or on
// a built site (python3 -m http.server --directory dist) first.
//
//   PRUNELAB_URL=http://127.0.0.1:8080 node scripts/bench-web.mjs     (or: npm run bench)
//   ... node scripts/bench-web.mjs --first-visit                        (that part alone)
import { chromium } from 'playwright-core';

const base = (process.env.PRUNELAB_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const TIMEOUT_MS = 15 * 60 * 1000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
});
/** One first visit, in a fresh context (no cache, no service worker). */
async function firstVisit() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  let bytes = 0;
  const byType = {};
  context.on('requestfinished', async (r) => {
    const sizes = await r.sizes().catch(() => null);
    if (!sizes) return;
    const n = sizes.responseBodySize + sizes.responseHeadersSize;
    bytes += n;
    const kind = r.url().replace(/[?#].*$/, '').split('/').pop();
    byType[kind] = (byType[kind] ?? 0) + n;
  });
  const t0 = Date.now();
  await page.goto(`${base}/?backend=cpu`);
  await page.waitForFunction(() => window.pruneLab?.state.padReady, null, { timeout: 5 * 60_000, polling: 50 });
  const ready = { ms: Date.now() - t0, bytes };
  const pad = page.locator('#pad');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  const at = (x, y) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(0.3, 0.2));
  await page.mouse.down();
  for (const [x, y] of [[0.7, 0.2], [0.7, 0.85], [0.3, 0.85], [0.3, 0.2]]) await page.mouse.move(...at(x, y), { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => window.pruneLab.state.draw.classified > 0, null, { timeout: 5 * 60_000, polling: 50 });
  const classified = { ms: Date.now() - t0, bytes };
  const before = Object.entries(byType).sort((a, b) => b[1] - a[1]).slice(0, 6);
  await context.close();
  return {
    pad_ready_ms: ready.ms,
    pad_ready_bytes: ready.bytes,
    first_classification_ms: classified.ms,
    first_classification_bytes: classified.bytes,
    largest_files_by_then: Object.fromEntries(before),
  };
}

let code = 0;
try {
  const first = await firstVisit();
  console.error(`[first visit] ${JSON.stringify(first)}`);
  if (process.argv.includes('--first-visit')) {
    console.log(JSON.stringify({ first_visit: first }));
  } else {
    console.log(JSON.stringify({ ...(await benchPage()), first_visit: first }));
  }
} catch (e) {
  console.error(`bench-web: FAILED: ${e.message}`);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);

/** Runs bench.html to the end; returns its JSON. */
async function benchPage() {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'info' || m.type() === 'error' || m.type() === 'warning') console.error(`[page ${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.goto(`${base}/bench.html`);
  await page.waitForSelector('#bench-result[data-done="1"]', { state: 'attached', timeout: TIMEOUT_MS });
  return JSON.parse(await page.getAttribute('#bench-result', 'data-json'));
}
