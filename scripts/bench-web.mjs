// Runs the page's bench (www/bench.html) in headless Chromium and prints its JSON result.
// Serves nothing itself: start a server on www/ first (prunelab serve, or
// python3 -m http.server 8080 --bind 127.0.0.1 --directory www).
//
//   PRUNELAB_URL=http://127.0.0.1:8080 node scripts/bench-web.mjs     (or: npm run bench)
import { chromium } from 'playwright-core';

const base = (process.env.PRUNELAB_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const TIMEOUT_MS = 15 * 60 * 1000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
});
let code = 0;
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'info' || m.type() === 'error' || m.type() === 'warning') console.error(`[page ${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.goto(`${base}/bench.html`);
  await page.waitForSelector('#bench-result[data-done="1"]', { state: 'attached', timeout: TIMEOUT_MS });
  console.log(await page.getAttribute('#bench-result', 'data-json'));
} catch (e) {
  console.error(`bench-web: FAILED: ${e.message}`);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
