// Service worker of dotm collect: keeps the app shell, forms and assignments
// so that the app opens and interviews can be done without a network.
// The server replaces the version below with a hash of the app's files, so
// a new server version replaces the cached shell.
'use strict';
const VERSION = '__VERSION__';
const SHELL = 'dotm-shell-' + VERSION;
const DATA = 'dotm-data';
const SHELL_FILES = ['./', 'index.html', 'app.js', 'app.css', 'wasm_exec.js', 'questionnaire.wasm', 'manifest.webmanifest', 'icon.svg'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith('dotm-shell-') && k !== SHELL).map((k) => caches.delete(k)),
  )).then(() => self.clients.claim()));
});

// Forms, assignments, the user and surveys: network first, the cached copy
// when there is no network. Submissions are never touched here: the app's
// send queue posts them and keeps them until the server acknowledges.
const CACHED_API = [/\/api\/v1\/forms\//, /\/api\/v1\/assignments$/, /\/api\/v1\/me$/, /\/api\/v1\/surveys\/[^/]+$/];

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (CACHED_API.some((re) => re.test(url.pathname))) {
    event.respondWith(networkFirst(req));
    return;
  }
  if (url.pathname.startsWith(new URL('./', self.location).pathname)) {
    event.respondWith(shellFirst(req));
  }
});

async function networkFirst(req) {
  const cache = await caches.open(DATA);
  try {
    const res = await fetch(req);
    if (res.status === 200) await cache.put(req.url, res.clone());
    return res;
  } catch (err) {
    const hit = await cache.match(req.url);
    if (hit) return hit;
    throw err;
  }
}

async function shellFirst(req) {
  const cache = await caches.open(SHELL);
  const hit = await cache.match(req, { ignoreSearch: true });
  if (hit) return hit;
  const res = await fetch(req);
  if (res.status === 200) cache.put(req, res.clone());
  return res;
}

self.addEventListener('message', (event) => {
  if (event.data === 'clear-data') event.waitUntil(caches.delete(DATA));
});
