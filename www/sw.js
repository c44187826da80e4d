// Prune Lab's service worker, for a site built by scripts/build-site.sh (which fills in BUILD and
// SHELL below; the page registers it only there, never on the development server).
//
// The app shell (page, scripts, wasm, models, drawings) of one build is kept in one cache named
// by the build's hash. Every script, the wasm and the models live under app-<hash>/ in the built
// site, so a page only ever asks for the files of its own build: an old page never gets new
// wasm, nor a new page old scripts. Pages (navigations) come from the network first, so an
// update takes effect on the next load; from the cache when the network is gone. The dataset
// is not here: the page keeps it in its own cache, by SHA-256 (data.js).
//
// It also makes the site cross-origin isolated where the host cannot send the headers itself
// (GitHub Pages and the like): every response it gives gets COOP and COEP, so from the second
// load on (the first is not yet under the worker) the page may share memory between threads
// and run the threaded CPU bundle.

const BUILD = null; // build-site.sh: the build's hash
const SHELL = []; // build-site.sh: the files of the shell, relative to this file

const CACHE = `prunelab-shell-${BUILD}`;
const scope = (path) => new URL(path, self.registration.scope).href;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // Files under app-<hash>/ never change, so the browser's HTTP cache may give them (no second
    // download of what the page just loaded); the pages and drawings are checked with the site.
    await cache.addAll(SHELL.map((path) => new Request(scope(path), { cache: path.startsWith('app-') ? 'default' : 'no-cache' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('prunelab-shell-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

/** A page: the site's newest, or this build's copy when offline (any query: the lab's state). */
async function page(request) {
  try {
    // Checked with the site every time (a host's Last-Modified would let the HTTP cache keep
    // an old page, which names the old build's files).
    return await fetch(request, { cache: 'no-cache' });
  } catch (e) {
    const cache = await caches.open(CACHE);
    const path = new URL(request.url).pathname;
    const own = await cache.match(request, { ignoreSearch: true });
    const index = path.endsWith('/') ? await cache.match(scope('./')) : undefined;
    if (own ?? index) return own ?? index;
    throw e;
  }
}

/**
 * A file of the shell: from this build's cache, else the network. Files of the build that are
 * not precached (the WebGPU bundle, which only visitors with a GPU load) are kept once fetched:
 * nothing under app-<hash>/ ever changes.
 */
async function file(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && new URL(request.url).pathname.includes(`/app-${BUILD}/`)) await cache.put(request, response.clone()).catch(() => {});
  return response;
}

/** `response` with the isolation headers (what `prunelab serve` sends; see above). */
function isolated(response) {
  // A redirected page rebuilt here would show at the old address: let the browser follow it.
  if (response.redirected) return Response.redirect(response.url, 302);
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  const body = [101, 204, 205, 304].includes(response.status) ? null : response.body;
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || !request.url.startsWith(self.registration.scope)) return;
  const path = request.url.slice(self.registration.scope.length);
  if (path.startsWith('data/')) return; // the dataset: the page's own cache (data.js)
  event.respondWith((request.mode === 'navigate' ? page(request) : file(request)).then(isolated));
});
