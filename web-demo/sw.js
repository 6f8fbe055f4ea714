// The demo's service worker: keeps the page's files (listed in version.json)
// so that it starts with the network off. The models are kept by the page
// itself in the Cache API (store.js); this worker finds them there too.
const VERSION = new URL(self.location.href).searchParams.get('v') ?? 'dev';
const SHELL = `slm360-shell-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const { files } = await (await fetch('version.json', { cache: 'no-cache' })).json();
    await (await caches.open(SHELL)).addAll(files);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith('slm360-shell-') && name !== SHELL) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method === 'GET' && url.origin === self.location.origin) event.respondWith(respond(event.request, url));
});

// What says which version is current comes from the network when it can (so
// an update shows at once); the rest from the caches first.
async function respond(request, url) {
  if (url.pathname.endsWith('/version.json') || url.pathname.endsWith('/models/manifest.json')) {
    try {
      return await fetch(request);
    } catch {
      return (await caches.match(request, { ignoreSearch: true })) ?? Response.error();
    }
  }
  const hit = await caches.match(request, { ignoreSearch: request.mode === 'navigate' });
  return hit ?? fetch(request);
}
