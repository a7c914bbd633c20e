// The phone player's service worker: the page opens, and a stored session plays, with no signal.
//
// - the page and its files (versioned addresses): kept on install, served from the cache;
//   the page itself is asked of the network first (a short wait), so a new version shows;
// - the session timelines: network first (a short wait), else the stored copy;
// - the clips: from the cache when stored (the page stores the chosen session's), else the
//   network, keeping what it fetched.
"use strict";

const VERSION = "%%VERSION%%";
const SHELL = %%SHELL%%;
const SHELL_CACHE = `pry-shell-${VERSION}`;
const DATA_CACHE = "pry-data-v1";
const CLIPS_CACHE = "pry-clips-v1";
const WAIT_MS = 4000;
const ROOT = new URL("./", self.registration.scope).pathname;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("pry-shell-") && key !== SHELL_CACHE)
          .map((key) => caches.delete(key)),
      ))
      .then(() => self.clients.claim()),
  );
});

function later(ms) {
  return new Promise((resolve, reject) => setTimeout(() => reject(new Error("slow network")), ms));
}

// The network's answer if it comes within WAIT_MS (kept under `key`), else the stored one.
async function networkFirst(request, cacheName, key) {
  const cache = await caches.open(cacheName);
  const network = fetch(request).then((response) => {
    if (response.ok && response.status === 200) {
      cache.put(key, response.clone()).catch(() => {});
    }
    return response;
  });
  network.catch(() => {});
  try {
    return await Promise.race([network, later(WAIT_MS)]);
  } catch (error) {
    const stored = await caches.match(key);
    return stored || network;
  }
}

async function storedFirst(request, cacheName) {
  const stored = await caches.match(request);
  if (stored) return stored;
  const response = await fetch(request);
  if (response.ok && response.status === 200 && cacheName) {
    const cache = await caches.open(cacheName);
    cache.put(request, response.clone()).catch(() => {});
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(ROOT)) return;
  const path = url.pathname.slice(ROOT.length);
  if (request.mode === "navigate") {
    if (path === "" || path === "index.html") {
      event.respondWith(networkFirst(request, SHELL_CACHE, new URL("./", self.registration.scope).href));
    }
    return;
  }
  if (path.startsWith("player/timelines/")) {
    event.respondWith(networkFirst(request, DATA_CACHE, url.href));
  } else if (path.startsWith("audio/clips/")) {
    if (request.headers.has("range")) return;
    event.respondWith(storedFirst(request, CLIPS_CACHE));
  } else if (path.startsWith("player/")) {
    event.respondWith(storedFirst(request, null));
  }
});
