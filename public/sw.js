/* Tepat service worker: precaches the hashed app shell and serves it offline.
 *
 * The list below is written at build time by public/sw-precache.mjs (a Trunk post_build
 * hook); in the source tree it is empty, and a worker with an empty list caches nothing.
 *
 * Updates never strand offline work: a new version installs and then waits. The app
 * tells it to take over (message "SKIP_WAITING") only when the outbox is empty or the
 * user confirms; otherwise it takes over when every Tepat tab is closed.
 * API calls (/api/) always go to the network: data lives in IndexedDB, not here.
 */
const VERSION = "dev";
const PRECACHE = [];

const CACHE = "tepat-shell-" + VERSION;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((p) => new Request(p, { cache: "reload" }))))
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("tepat-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "SKIP_WAITING") self.skipWaiting();
  if (event.data === "VERSION" && event.source) event.source.postMessage({ version: VERSION });
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (req.mode === "navigate") {
    // Every page of the app is index.html (client-side routing); the network answers
    // only when the shell is not cached yet.
    event.respondWith(
      caches.open(CACHE).then((cache) =>
        cache.match("/index.html").then((hit) => hit || fetch(req))
      )
    );
    return;
  }
  event.respondWith(
    caches.open(CACHE).then((cache) => cache.match(req).then((hit) => hit || fetch(req)))
  );
});
