// The portal's service worker: the page shell (styles, scripts, icon)
// only.  Pages and data always come from the network: never cached
// offline (a stale order or stock figure is worse than none).
const SHELL = 'dms-portal-shell-v1';
const FILES = [
  '/portal/static/portal.css',
  '/portal/static/portal.js',
  '/portal/static/icon.svg',
  '/portal/static/offline.html',
];

self.addEventListener('install', event => {
  event.waitUntil(caches.open(SHELL).then(cache => cache.addAll(FILES)));
  self.skipWaiting();
});

self.addEventListener('activate', event => {
  event.waitUntil(caches.keys().then(keys => Promise.all(
    keys.filter(key => key !== SHELL).map(key => caches.delete(key)))));
  self.clients.claim();
});

self.addEventListener('fetch', event => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) {
    return;
  }
  if (FILES.includes(url.pathname)) {
    // the shell: from the cache, refreshed in the background
    event.respondWith(caches.open(SHELL).then(cache =>
      cache.match(request).then(cached => {
        const fresh = fetch(request).then(response => {
          if (response.ok) {
            cache.put(request, response.clone());
          }
          return response;
        });
        return cached || fresh;
      })));
    return;
  }
  if (request.mode === 'navigate') {
    // a page: the network, or the offline notice (no data)
    event.respondWith(fetch(request).catch(() =>
      caches.match('/portal/static/offline.html')));
  }
});
