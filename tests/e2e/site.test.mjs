// End-to-end test of the built static site (scripts/build-site.sh) as a course would host it:
// under a sub-path of a plain static server (python3 -m http.server, not prunelab serve), with a
// course page on a second origin that embeds the lab in an iframe. scripts/test.sh sets it up:
//
//   SITE_URL=http://127.0.0.1:8182/course-x/prunelab/   the built site
//   COURSE_URL=http://127.0.0.1:8183/course.html        a page whose iframe shows ${SITE_URL}?panels=draw&embed=1
//
// Checks links that carry the state, the embed builder, the dataset cache, offline use after
// one visit, a misconfigured host, and a phone (touch drawing, 360 px, 44 px controls).
// Screenshots go to test-results/screenshots/ (with --update-docs also to docs/screenshots/).

import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readFileSync, rmSync, symlinkSync } from 'node:fs';
import { MIN, ROOT, SHIRT, assert, check, drawShirt, fail, finish, launch, shot, state, until } from './harness.mjs';

const SITE = process.env.SITE_URL;
const COURSE = process.env.COURSE_URL;
if (!SITE || !COURSE) throw new Error('set SITE_URL and COURSE_URL (scripts/test.sh does)');

const ready = (page, what = 'the lab to start') => until(page, () => window.pruneLab?.state.ready || window.pruneLab?.state.startError, 2 * MIN, what);
const dataDone = (page) => until(page, () => ['loaded', 'error'].includes(window.pruneLab.state.data.status), 3 * MIN, 'the dataset');

/** Waits for a classification of a drawing in `frame`; returns its top class. */
async function classified(frame, before) {
  await frame.waitForFunction((n) => window.pruneLab.state.draw.classified > n && window.pruneLab.state.draw.source?.kind === 'drawing', before, { timeout: MIN, polling: 250 });
  const s = await frame.evaluate(() => window.pruneLab.state);
  const sum = s.draw.probs.reduce((a, b) => a + b, 0);
  assert(s.draw.probs.length === 10 && Math.abs(sum - 1) < 1e-3, `probabilities ${JSON.stringify(s.draw.probs)}`);
  const best = s.draw.probs.indexOf(Math.max(...s.draw.probs));
  return `${s.classNames[best]} (${(s.draw.probs[best] * 100).toFixed(1)} %)`;
}

const browser = await launch();
const pageErrors = [];
const watch = (page) => page.on('pageerror', (e) => pageErrors.push(e.message));

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  watch(page);
  const link = `${SITE}?backend=cpu&model=mlp&method=neuron&sparsity=70&panels=prune,draw&hide=train,sweep`;

  await check('a link restores its controls and shows only its panels, on a plain static server under a sub-path', async () => {
    await page.goto(link);
    await ready(page);
    const s = await state(page);
    assert(!s.startError, `the lab did not start: ${s.startError}`);
    const seen = await page.evaluate(() => ({
      method: document.querySelector('input[name="prune-method"]:checked').value,
      sparsity: document.getElementById('prune-sparsity').value,
      output: document.getElementById('prune-sparsity-value').textContent,
      model: document.getElementById('train-model').value,
      panels: ['data', 'train', 'prune', 'draw'].filter((p) => !document.getElementById(`panel-${p}`).hidden),
      sweepShown: document.getElementById('sweep-start').checkVisibility(),
      variantShown: document.getElementById('prune-variant-label').checkVisibility(),
    }));
    assert(seen.method === 'neuron' && seen.sparsity === '70' && seen.output === '70 %' && seen.model === 'mlp', `controls: ${JSON.stringify(seen)}`);
    assert(seen.panels.join() === 'prune,draw', `panels shown: ${seen.panels}`);
    assert(!seen.sweepShown, 'hide=sweep left the Sweep button visible');
    assert(seen.variantShown, 'neuron pruning shows its variant control');
    assert(s.notes.length === 0, `notes: ${s.notes}`);
    // A first visit to a host without COOP/COEP: one thread, and the header says why.
    const isolated = await page.evaluate(() => self.crossOriginIsolated);
    assert(!isolated && s.backend.threads === 1, `first visit: isolated ${isolated}, ${s.backend.threads} threads`);
    assert(/one thread: .*(cross-origin isolated|one core)/.test(await page.textContent('#backend-reason')), 'the header does not say why one thread');
    return `neuron 70 %, panels ${seen.panels}, served from ${new URL(SITE).pathname}`;
  });

  await check('moving a control rewrites the link without a history entry, and Copy link gives it', async () => {
    const before = await page.evaluate(() => history.length);
    await page.$eval('#prune-sparsity', (el) => {
      el.value = '85';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.check('input[name="prune-method"][value="weight"]');
    await page.selectOption('#prune-scope', 'layer');
    await page.check('#prune-reconstruct');
    const after = await page.evaluate(() => ({ n: history.length, search: location.search }));
    assert(after.n === before, `history grew from ${before} to ${after.n}`);
    const q = new URLSearchParams(after.search);
    // Settings at their default (method=weight) leave the link.
    assert(q.get('sparsity') === '85' && !q.has('method') && q.get('scope') === 'layer' && q.get('reconstruct') === '1' && !q.has('connected') && q.get('panels') === 'prune,draw', `link: ${after.search}`);
    // Reopening the link restores the same state.
    const again = await context.newPage();
    watch(again);
    await again.goto(`${SITE}${after.search}`);
    await ready(again);
    const restored = await again.evaluate(() => [document.querySelector('input[name="prune-method"]:checked').value, document.getElementById('prune-scope').value, document.getElementById('prune-sparsity').value, document.getElementById('prune-reconstruct').checked]);
    await again.close();
    assert(restored.join() === 'weight,layer,85,true', `reopened: ${restored}`);
    return after.search;
  });

  await check('bad values in a link are ignored with a note, and the lab works', async () => {
    const bad = await context.newPage();
    watch(bad);
    await bad.goto(`${SITE}?backend=cpu&sparsity=150&method=magic&epochs=2.5&reconstruct=yes&seed=0x7&panels=draw,sideways&hide=nothing&model=cnn`);
    await ready(bad);
    const s = await state(bad);
    const text = await bad.textContent('#page-notes');
    // seed=0x7 is a number to Number() but not to a number field, which would have emptied itself.
    for (const bit of ['sparsity=150', 'method=magic', 'epochs=2.5', 'reconstruct=yes', 'seed=0x7', 'panels=sideways', 'hide=nothing']) assert(text.includes(bit), `the note does not mention ${bit}: ${text}`);
    const kept = await bad.evaluate(() => [document.getElementById('prune-sparsity').value, document.getElementById('train-model').value, document.getElementById('train-seed').value]);
    assert(kept.join() === '50,cnn,', `controls: ${kept}`);
    assert(!s.startError && (await bad.isVisible('#page-notes')), 'the note is not shown');
    const top = await drawShirt(bad).then(() => classified(bad, 0));
    await bad.close();
    return `"${text.slice(0, 80)}…"; still classifies (${top})`;
  });

  await check('the same seed trains the same model on the CPU backend', async () => {
    const p = await context.newPage();
    watch(p);
    await p.goto(`${SITE}?backend=cpu&panels=data,train&seed=7&limit=512&epochs=1&batch=64`);
    await ready(p);
    await dataDone(p);
    const digests = [];
    for (let run = 0; run < 2; run++) {
      await p.evaluate(() => { window.pruneLab.state.train.status = 'idle'; });
      await p.click('#train-start');
      await until(p, () => window.pruneLab.state.train.status === 'done' && !window.pruneLab.state.busy, 3 * MIN, `training run ${run + 1}`);
      digests.push(await p.evaluate(async () => {
        const bytes = await window.pruneLab.client.exportModel();
        return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
      }));
    }
    const acc = (await state(p)).train.result.evaluation.accuracy;
    await p.close();
    assert(digests[0] === digests[1], `two runs with seed 7 differ: ${digests[0].slice(0, 12)} vs ${digests[1].slice(0, 12)}`);
    return `both runs ${digests[0].slice(0, 12)}…, test accuracy ${(acc * 100).toFixed(2)} %`;
  });

  await check('the second visit loads the data from the browser\'s cache, with the data files blocked', async () => {
    const first = await context.newPage();
    watch(first);
    await first.goto(`${SITE}?backend=cpu`);
    await ready(first);
    await dataDone(first);
    const s1 = await state(first);
    await first.close();
    assert(s1.data.status === 'loaded', `first visit: ${s1.data.error}`);
    const asked = [];
    await context.route('**/data/*.gz', (route) => {
      asked.push(route.request().url());
      return route.abort('blockedbyclient');
    });
    const second = await context.newPage();
    watch(second);
    await second.goto(`${SITE}?backend=cpu`);
    await ready(second);
    await dataDone(second);
    const s = await state(second);
    const summary = await second.textContent('#data-summary');
    await context.unroute('**/data/*.gz');
    assert(s.data.status === 'loaded', `second visit: ${s.data.error}`);
    assert(s.data.source === 'cache' && summary.includes('from cache'), `source ${s.data.source}: ${summary}`);
    assert(asked.length === 0, `the page asked the network for ${asked.join(', ')}`);
    await shot(second.locator('#panel-data'), 'site-data-cache.png');
    await second.close();
    return `first visit from ${s1.data.source}; second: "${summary}"`;
  });

  await check('a new build takes effect on the next load, all of it, and its service worker drops the old files', async () => {
    const { SITE_LINK, SITE_BUILDS } = process.env;
    assert(SITE_LINK && SITE_BUILDS, 'set SITE_LINK and SITE_BUILDS (scripts/test.sh does)');
    const p = await context.newPage();
    watch(p);
    const build = () => p.evaluate(() => document.querySelector('meta[name="prunelab-build"]').content);
    const apps = () => p.evaluate(() => [...new Set(performance.getEntriesByType('resource').map((r) => r.name.match(/app-(\w+)\//)?.[1]).filter(Boolean))]);
    await p.goto(`${SITE}?backend=cpu&panels=draw`);
    await ready(p);
    const before = await build();
    const swap = (to) => {
      rmSync(SITE_LINK);
      symlinkSync(join(SITE_BUILDS, to), SITE_LINK);
    };
    swap('b');
    try {
      await p.reload();
      await ready(p, 'the lab to start on the new build');
      const after = await build();
      assert(after !== before, `still build ${before} after the update`);
      const loaded = await apps();
      assert(loaded.length === 1 && loaded[0] === after, `scripts from builds ${loaded} on a page of build ${after}`);
      const top = await drawShirt(p).then(() => classified(p, 0));
      // The service worker of the new build takes over and drops the old one's files. With
      // skipWaiting it still waits for the old worker to go idle. When its install ends while the
      // old one serves the reloaded page (seen on a slow, loaded machine), Chromium here left the
      // old worker running idle for minutes and activated the new one only at its 5-minute limit
      // (298 s). Most likely the debugger Playwright attaches to every service worker: Chromium
      // does not stop an idle worker under a debugger. A visitor's old worker stops after 30 s
      // idle. So allow 6 minutes, and say how long it took.
      const waited = Date.now();
      for (;;) {
        const keys = await p.evaluate(() => caches.keys());
        if (keys.includes(`prunelab-shell-${after}`) && !keys.includes(`prunelab-shell-${before}`)) break;
        if (Date.now() - waited > 6 * MIN) {
          const workers = await p.evaluate(async () => {
            const r = await navigator.serviceWorker.getRegistration();
            return ['installing', 'waiting', 'active'].map((k) => `${k} ${r?.[k]?.state ?? '-'}`).join(', ');
          });
          throw new Error(`caches after the update: ${keys}; workers: ${workers}`);
        }
        await p.waitForTimeout(500);
      }
      const took = ((Date.now() - waited) / 1000).toFixed(1);
      return `${before} → ${after}, scripts only from app-${after}/ (${top}); the cache holds ${after} alone (${took} s after the check began)`;
    } finally {
      // The newer build stays: going back to an older one would be a downgrade, which servers
      // answer with 304 Not Modified (its files are older), as they should.
      await p.close();
    }
  });

  await check('offline after one visit: the lab opens, classifies a drawing and trains on the cached data', async () => {
    const p = await context.newPage();
    watch(p);
    await p.goto(`${SITE}?backend=cpu&limit=256&epochs=1`);
    await ready(p);
    await dataDone(p);
    // The service worker installs while the page runs: wait until it has this build's shell.
    const shellCached = () => p.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      const build = document.querySelector('meta[name="prunelab-build"]').content;
      return Boolean(reg?.active) && (await caches.keys()).includes(`prunelab-shell-${build}`);
    });
    for (let t = 0; !(await shellCached()); t++) {
      assert(t < 240, 'the service worker did not cache the shell within 2 minutes');
      await p.waitForTimeout(500);
    }
    await context.setOffline(true);
    try {
      await p.reload();
      await ready(p, 'the lab to start offline');
      const s0 = await state(p);
      assert(!s0.startError, `offline start failed: ${s0.startError}`);
      const controlled = await p.evaluate(() => Boolean(navigator.serviceWorker.controller));
      assert(controlled, 'the page is not served by the service worker');
      // The service worker adds COOP and COEP, which python's server does not send: the page is
      // now cross-origin isolated, and on more than one core runs the threaded bundle (cached).
      const { isolated, cores } = await p.evaluate(() => ({ isolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency }));
      assert(isolated, 'the service worker did not make the page cross-origin isolated');
      assert(s0.backend.threads === Math.max(1, cores), `offline, the CPU runs on ${s0.backend.threads} threads (${cores} cores)`);
      await dataDone(p);
      let s = await state(p);
      assert(s.data.status === 'loaded' && s.data.source === 'cache', `offline data: ${s.data.status} ${s.data.error}`);
      const top = await drawShirt(p).then(() => classified(p, s.draw.classified));
      await p.click('#train-start');
      await until(p, () => ['done', 'error'].includes(window.pruneLab.state.train.status), 3 * MIN, 'training offline');
      s = await state(p);
      assert(s.train.status === 'done', `training offline: ${s.train.error}`);
      return `${s0.backend.threads} threads; drawing: ${top}; trained offline to ${(s.train.result.evaluation.accuracy * 100).toFixed(1)} %`;
    } finally {
      await context.setOffline(false);
      await p.close();
    }
  });

  await check('the embed builder previews the frame and gives its snippet', async () => {
    const p = await context.newPage();
    watch(p);
    await p.goto(`${SITE}?backend=cpu&method=neuron&sparsity=60`);
    await ready(p);
    await p.click('#embed-open');
    await p.locator('#embed-hide input[value="train"]').check();
    await p.locator('#embed-hide input[value="backendswitch"]').check();
    await until(p, () => window.pruneLab.state.embed?.link.includes('hide=train,backendswitch'), 10_000, 'the snippet');
    const code = await p.inputValue('#embed-code');
    assert(/^<iframe src="[^"]+" width="420" height="560" /.test(code), `snippet: ${code}`);
    const src = new URL(code.match(/src="([^"]+)"/)[1].replace(/&amp;/g, '&'));
    assert(src.searchParams.get('panels') === 'draw' && src.searchParams.get('embed') === '1' && src.searchParams.get('sparsity') === '60' && src.searchParams.get('method') === 'neuron', `link: ${src}`);
    const frame = p.frameLocator('#embed-preview');
    await frame.locator('#pad').waitFor({ timeout: MIN });
    await p.waitForFunction(() => document.getElementById('embed-preview').contentWindow.pruneLab?.state.ready, null, { timeout: 2 * MIN });
    await p.waitForTimeout(500);
    const where = await shot(p.locator('#embed-dialog'), 'embed-builder.png', 'screenshots/embed-builder.png');
    await p.click('#embed-close');
    await p.close();
    return `${where}; ${src.search}`;
  });

  await check('embedded in a cross-origin course page at 420×560, the pad and its answer both show without scrolling', async () => {
    const p = await context.newPage();
    watch(p);
    await p.goto(COURSE);
    const handle = await p.waitForSelector('iframe#lab');
    const frame = await handle.contentFrame();
    assert(new URL(frame.url()).origin !== new URL(COURSE).origin, 'the lab is not on another origin');
    await ready(frame);
    const box = await handle.boundingBox();
    assert(Math.round(box.width) === 420 && Math.round(box.height) === 560, `frame ${box.width}×${box.height}`);
    const layout = await frame.evaluate(() => {
      const r = (id) => document.getElementById(id).getBoundingClientRect();
      return { pad: r('pad'), probs: r('draw-probs'), guess: r('draw-guess'), scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight], view: [innerWidth, innerHeight] };
    });
    const before = (await frame.evaluate(() => window.pruneLab.state)).draw.classified;
    await drawShirt(p, frame);
    const top = await classified(frame, before);
    const probs = await frame.evaluate(() => document.getElementById('draw-probs').getBoundingClientRect());
    const inside = (r) => r.top >= 0 && r.bottom <= 560 + 0.5 && r.left >= 0 && r.right <= 420 + 0.5;
    assert(inside(layout.pad), `the pad is not all in the frame: ${JSON.stringify(layout.pad)}`);
    assert(probs.height > 100 && inside(probs), `the probabilities are not all in the frame: ${JSON.stringify(probs)}`);
    assert(layout.scroll[0] <= layout.view[0], `the frame scrolls sideways: ${layout.scroll}`);
    await shot(p.locator('iframe#lab'), 'embed-draw-420x560.png', 'screenshots/embed-draw.png');
    await p.close();
    return `${top}; pad ${Math.round(layout.pad.width)} px, probabilities end at ${Math.round(probs.bottom)} of 560 px`;
  });

  await check('a host that un-gzips .gz files on the way: the wasm still starts, and a data file gets a clear error', async () => {
    const fresh = await browser.newContext(); // no service worker, no cache: every file from this host
    const p = await fresh.newPage();
    watch(p);
    // What a browser hands the page when the host adds Content-Encoding: gzip to a .gz file.
    const wasm = gunzipSync(readFileSync(join(ROOT, 'www', 'pkg', 'prunelab_bg.wasm.gz')));
    const idx = gunzipSync(readFileSync(join(ROOT, 'www', 'data', 't10k-labels-idx1-ubyte.gz')));
    await p.route('**/pkg/prunelab_bg.wasm.gz', (route) => route.fulfill({ status: 200, contentType: 'application/gzip', body: wasm }));
    await p.route('**/data/t10k-labels-idx1-ubyte.gz', (route) => route.fulfill({ status: 200, contentType: 'application/gzip', body: idx }));
    await p.goto(`${SITE}?backend=cpu`);
    await ready(p);
    await dataDone(p);
    const s = await state(p);
    assert(!s.startError, `the lab did not start: ${s.startError}`);
    assert(s.data.errorKind === 'bad_download' && s.data.errorFile === 't10k-labels-idx1-ubyte' && s.data.error.includes('Content-Encoding'), `data error: ${s.data.errorKind} ${s.data.error}`);
    const top = await drawShirt(p).then(() => classified(p, 0));
    await fresh.close();
    return `"${s.data.error.slice(0, 70)}…"; the pad still classifies (${top})`;
  });

  await context.close();

  await check('on a phone: a touch-drawn shape is classified, no sideways scroll at 360 px, controls 44 px tall', async () => {
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const p = await phone.newPage();
    watch(p);
    await p.goto(`${SITE}?backend=cpu&panels=draw`);
    await ready(p);
    const scroll = await p.evaluate(() => document.documentElement.scrollWidth);
    assert(scroll <= 360, `the page is ${scroll} px wide at 360 px`);
    const small = await p.evaluate(() => [...document.querySelectorAll('button, select, input:not([type=checkbox]):not([type=radio]), summary, label.inline')]
      .filter((e) => e.checkVisibility() && e.getBoundingClientRect().height > 0)
      .map((e) => [e.id || e.textContent.trim().slice(0, 20), Math.round(e.getBoundingClientRect().height)])
      .filter(([, h]) => h < 44));
    assert(small.length === 0, `controls under 44 px: ${JSON.stringify(small.slice(0, 6))}`);
    const pad = p.locator('#pad');
    await pad.scrollIntoViewIfNeeded();
    const box = await pad.boundingBox();
    const cdp = await phone.newCDPSession(p);
    const at = ([x, y]) => ({ x: box.x + x * box.width, y: box.y + y * box.height });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at(SHIRT[0])] });
    for (let i = 1; i < SHIRT.length; i++) {
      for (let k = 1; k <= 5; k++) {
        const [a, b] = [SHIRT[i - 1], SHIRT[i]];
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [at([a[0] + ((b[0] - a[0]) * k) / 5, a[1] + ((b[1] - a[1]) * k) / 5])] });
      }
    }
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    const top = await classified(p, 0);
    const where = await shot(p, 'site-phone-360.png', null, { fullPage: true });
    await phone.close();
    return `${top}; ${where}`;
  });

  await check('no uncaught errors in the pages', async () => {
    assert(pageErrors.length === 0, pageErrors.slice(0, 3).join(' | '));
  });
} catch (e) {
  fail(e);
} finally {
  await browser.close();
}

finish('site e2e');
