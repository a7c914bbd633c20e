// The phone player: plays a session's timeline (player/timelines/<choice>.json, exported from
// the same timeline `yoga-skill play` plays) from the prerendered clips, a clip then its
// silence, on one <audio> element; stores the session for offline use; remembers the choices
// and the place. Nothing here rebuilds the routine: the timeline says what plays when.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const VERSION = new URL(document.currentScript.src).searchParams.get("v") || "";
  const SETTINGS_KEY = "pry.settings";
  const PLACE_KEY = "pry.place";
  const NO_STORE_KEY = "pry.nostore";
  const CLIPS_CACHE = "pry-clips-v1";
  const DATA_CACHE = "pry-data-v1";
  const RESUME_MS = 12 * 3600 * 1000; // as the skill: an unfinished session is offered for 12 hours
  const BACK_GRACE = 3; // seconds into a pose side after which "back" starts it again
  const MIN_GAP = 0.05; // shorter silences are not played
  const audio = $("audio");
  const canStore = "caches" in window;

  let timeline = null; // the chosen session
  let t = 0; // where the session is, in seconds
  let cueIndex = 0; // the cue the audio element holds ...
  let phase = "clip"; // ... its clip, or the silence after it
  let ready = false; // the audio element holds (cueIndex, phase)
  let playing = false;
  let started = false; // a session under way: started, or offered to carry on
  let finished = false;
  let token = 0; // bumped whenever playback moves, so that stale loads give up
  let wakeLock = null;
  let shownSection = -1;
  let savedAt = 0;
  let storing = null; // the name of the session being stored
  const objectUrls = new Map(); // clip address -> object URL, the latest few
  const silences = new Map(); // seconds -> object URL of a silent WAV

  // ------------------------------------------------------------------ choices

  function choices() {
    return {
      plan: $("plan").value,
      mode: document.querySelector("input[name=mode]:checked").value,
      breaths: Number($("breaths").value),
      brief: $("brief").checked,
      variations: $("variations").checked,
    };
  }

  function nameOf(c) {
    const words = c.brief ? "brief" : "steps";
    return `${c.mode}-${c.breaths}-${c.plan}-${words}-${c.variations ? "var" : "novar"}`;
  }

  function breathsRange() {
    const out = $("breaths");
    return [Number(out.dataset.min), Number(out.dataset.max)];
  }

  function setBreaths(n) {
    const [low, high] = breathsRange();
    const value = Math.min(high, Math.max(low, Math.round(n)));
    $("breaths").value = String(value);
    $("fewer").disabled = value <= low;
    $("more").disabled = value >= high;
  }

  function restoreChoices() {
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) || "null");
    } catch (error) {
      saved = null;
    }
    if (saved && typeof saved === "object") {
      if ([...$("plan").options].some((o) => o.value === saved.plan)) $("plan").value = saved.plan;
      const mode = document.querySelector(`input[name=mode][value="${saved.mode === "flow" ? "flow" : "hold"}"]`);
      mode.checked = true;
      if (Number.isInteger(saved.breaths)) setBreaths(saved.breaths);
      $("brief").checked = saved.brief === true;
      $("variations").checked = saved.variations !== false;
    }
    setBreaths(Number($("breaths").value));
  }

  function saveChoices() {
    try {
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(choices()));
    } catch (error) { /* private browsing: nothing remembered */ }
  }

  // ------------------------------------------------------------------ the timeline

  function timelineUrl(name) {
    return `player/timelines/${name}.json`;
  }

  async function fetchTimeline(name) {
    const url = timelineUrl(name);
    let response = null;
    try {
      response = await fetch(url);
    } catch (error) {
      response = canStore ? await caches.match(url) : null;
      if (!response) throw new Error("offline");
    }
    if (!response.ok) throw new Error(`the server said ${response.status}`);
    if (canStore) {
      const copy = response.clone();
      caches.open(DATA_CACHE).then((cache) => cache.put(url, copy)).catch(() => {});
    }
    return response.json();
  }

  function cueAt(x, tl = timeline) {
    const cues = tl.cues;
    let lo = 0;
    let hi = cues.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cues[mid].start <= x) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  function sectionAt(x) {
    return timeline.cues[cueAt(x)].section;
  }

  function clock(seconds) {
    const whole = Math.max(0, Math.round(seconds));
    const m = Math.floor(whole / 60);
    const s = whole % 60;
    return `${m}:${String(s).padStart(2, "0")}`;
  }

  function minutes(seconds) {
    return Math.max(1, Math.round(seconds / 60));
  }

  function megabytes(bytes) {
    return `${(bytes / 1e6).toFixed(1)} MB`;
  }

  function capital(text) {
    return text ? text[0].toUpperCase() + text.slice(1) : "";
  }

  function sideText(section) {
    return section.side ? `${capital(section.side)} side` : "";
  }

  function labelAt(cue, offset) {
    let label = cue.doing;
    for (const [at, mark] of cue.marks) {
      if (at > offset) break;
      label = mark;
    }
    return label;
  }

  function lineAt(cue, offset) {
    let text = "";
    for (const [at, line] of cue.lines) {
      if (at > offset && text) break;
      text = line;
    }
    return text;
  }

  function shown(label) {
    if (!label || label === "intro" || label === "flow") return "";
    if (label === "tip") return "Top tip";
    if (label === "relax") return "Rest";
    return capital(label);
  }

  function setText(id, text) {
    const node = $(id);
    if (node.textContent !== text) node.textContent = text;
  }

  function describe(section) {
    if (section.number) return `Pose ${section.number} of ${timeline.poses}`;
    if (section.key === "welcome") return `${timeline.poses} poses, ${minutes(timeline.total)} min`;
    return "To finish";
  }

  function render() {
    if (!timeline) return;
    const x = Math.min(t, timeline.total);
    const index = cueAt(x);
    const cue = timeline.cues[index];
    const section = timeline.sections[cue.section];
    const offset = x - cue.start;
    setText("number", describe(section));
    setText("pose", section.pose);
    setText("side", sideText(section));
    const label = labelAt(cue, offset);
    setText("doing", finished ? "" : shown(label));
    let caption = lineAt(cue, offset);
    if (label.startsWith("step ")) caption = caption.replace(/^Step \d+\.\s*/, "");
    if (finished) caption = "Well done. That's the session finished.";
    else if (!started) caption = "Choose your session below, then press Start.";
    setText("caption", caption);
    setText("elapsed", clock(x));
    setText("left", clock(timeline.total - x));
    const percent = timeline.total ? Math.round((100 * x) / timeline.total) : 0;
    $("fill").style.width = `${percent}%`;
    $("bar").setAttribute("aria-valuenow", String(percent));
    $("bar").setAttribute("aria-valuetext", `${clock(timeline.total - x)} left`);
    document.body.dataset.time = x.toFixed(2);
    if (cue.section !== shownSection) {
      shownSection = cue.section;
      updateMediaSession(section);
      savePlace();
    }
  }

  function summary() {
    const c = choices();
    const plan = $("plan").selectedOptions[0].textContent;
    const style = c.mode === "hold" ? `slow holds of ${c.breaths} breaths` : "a dynamic flow";
    const poses = timeline.poses === 1 ? "1 pose" : `${timeline.poses} poses`;
    setText("summary", `${plan}, ${style}: ${minutes(timeline.total)} min, ${poses}.`);
  }

  function status(text) {
    setText("status", text);
  }

  // ------------------------------------------------------------------ buttons

  function updateButtons() {
    const have = Boolean(timeline);
    $("play").disabled = !have;
    for (const id of ["next", "back", "repeat"]) $(id).disabled = !have || !started;
    let label = "Start";
    if (playing) label = "Pause";
    else if (finished) label = "Start again";
    else if (!$("resume").hidden) label = "Carry on";
    else if (started) label = "Resume";
    setText("play-label", label);
    $("play-icon").innerHTML = playing
      ? '<path d="M6 4h4v16H6zM14 4h4v16h-4z"/>'
      : '<path d="M7 4v16l13-8z"/>';
    document.body.dataset.state = playing ? "playing" : finished ? "finished" : started ? "paused" : "ready";
    if ("mediaSession" in navigator) {
      navigator.mediaSession.playbackState = playing ? "playing" : started ? "paused" : "none";
    }
  }

  // ------------------------------------------------------------------ audio

  async function clipSource(url) {
    if (objectUrls.has(url)) return objectUrls.get(url);
    let response = canStore ? await caches.match(url) : null;
    if (!response) {
      response = await fetch(url);
      if (!response.ok) throw new Error(`clip ${response.status}`);
      if (canStore) {
        const copy = response.clone();
        caches.open(CLIPS_CACHE).then((cache) => cache.put(url, copy)).catch(() => {});
      }
    }
    const objectUrl = URL.createObjectURL(await response.blob());
    objectUrls.set(url, objectUrl);
    while (objectUrls.size > 6) {
      const [oldest, old] = objectUrls.entries().next().value;
      if (old === audio.src) break;
      URL.revokeObjectURL(old);
      objectUrls.delete(oldest);
    }
    return objectUrl;
  }

  // A silent WAV (8 kHz, 8-bit mono) of `seconds`: the silences play on the audio element too,
  // so the phone keeps the session playing (and its lock screen controls) between clips.
  function silence(seconds) {
    const key = seconds.toFixed(2);
    if (silences.has(key)) return silences.get(key);
    const rate = 8000;
    const n = Math.max(1, Math.round(seconds * rate));
    const buffer = new ArrayBuffer(44 + n);
    const view = new DataView(buffer);
    const text = (at, s) => [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
    text(0, "RIFF");
    view.setUint32(4, 36 + n, true);
    text(8, "WAVEfmt ");
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true);
    view.setUint16(22, 1, true);
    view.setUint32(24, rate, true);
    view.setUint32(28, rate, true);
    view.setUint16(32, 1, true);
    view.setUint16(34, 8, true);
    text(36, "data");
    view.setUint32(40, n, true);
    new Uint8Array(buffer, 44).fill(128);
    const url = URL.createObjectURL(new Blob([buffer], { type: "audio/wav" }));
    silences.set(key, url);
    return url;
  }

  let dropLoad = null; // gives up the load in progress, if any

  // Load `src` into the audio element and seek to `at`; a later load gives this one up.
  function loadInto(src, at) {
    if (dropLoad) dropLoad();
    return new Promise((resolve, reject) => {
      const off = () => {
        audio.removeEventListener("loadedmetadata", done);
        audio.removeEventListener("error", failed);
        dropLoad = null;
      };
      const done = () => {
        off();
        if (at > 0.05) audio.currentTime = at;
        resolve();
      };
      const failed = () => {
        off();
        reject(new Error("the clip would not play"));
      };
      dropLoad = () => {
        off();
        reject(new Error("superseded"));
      };
      audio.addEventListener("loadedmetadata", done);
      audio.addEventListener("error", failed);
      audio.src = src;
    });
  }

  // Play cue `index` from `at` seconds into its clip ("clip") or its silence ("gap").
  async function playSegment(index, part, at) {
    const mine = ++token;
    ready = false;
    const cue = timeline.cues[index];
    cueIndex = index;
    phase = part;
    try {
      const src = part === "clip" ? await clipSource(cue.clip) : silence(cue.pause);
      if (mine !== token) return;
      audio.dataset.clip = part === "clip" ? cue.clip : "";
      await loadInto(src, at);
      if (mine !== token) return;
      ready = true;
      await audio.play();
    } catch (error) {
      if (mine !== token) return;
      stopPlaying();
      status(error && error.name === "NotAllowedError"
        ? "Press Start to play."
        : "That clip isn't stored on this phone and there's no connection. Connect once to store the session.");
      return;
    }
    if (mine === token && index + 1 < timeline.cues.length) {
      clipSource(timeline.cues[index + 1].clip).catch(() => {});
    }
  }

  function playFrom(x) {
    const index = cueAt(x);
    const cue = timeline.cues[index];
    const offset = Math.max(0, x - cue.start);
    playing = true;
    started = true;
    finished = false;
    updateButtons();
    render();
    positionState();
    keepAwake();
    if (offset < cue.duration - MIN_GAP || cue.pause < MIN_GAP) {
      playSegment(index, "clip", Math.min(offset, cue.duration));
    } else {
      playSegment(index, "gap", Math.min(offset - cue.duration, cue.pause));
    }
  }

  function stopPlaying() {
    token++;
    ready = false;
    playing = false;
    audio.pause();
    letSleep();
    updateButtons();
    positionState();
    savePlace();
  }

  function pause() {
    if (!playing) return;
    stopPlaying();
    render();
  }

  function resume() {
    if (!timeline || playing) return;
    $("resume").hidden = true;
    if (finished) {
      t = 0;
      finished = false;
    }
    status("");
    playFrom(t);
  }

  function finish() {
    stopPlaying();
    started = false;
    finished = true;
    t = timeline.total;
    forgetPlace();
    render();
    updateButtons();
  }

  audio.addEventListener("timeupdate", () => {
    if (!ready || !playing) return;
    const cue = timeline.cues[cueIndex];
    t = cue.start + (phase === "clip" ? audio.currentTime : cue.duration + audio.currentTime);
    render();
    if (Date.now() - savedAt > 10000) savePlace();
  });

  audio.addEventListener("ended", () => {
    if (!ready || !playing) return;
    const cue = timeline.cues[cueIndex];
    if (phase === "clip" && cue.pause >= MIN_GAP) {
      t = cue.start + cue.duration;
      playSegment(cueIndex, "gap", 0);
    } else if (cueIndex + 1 < timeline.cues.length) {
      t = timeline.cues[cueIndex + 1].start;
      playSegment(cueIndex + 1, "clip", 0);
    } else {
      finish();
    }
    render();
  });

  // ------------------------------------------------------------------ moving

  function moveTo(x) {
    if (!timeline) return;
    $("resume").hidden = true;
    finished = false;
    started = true;
    t = Math.max(0, Math.min(x, timeline.total));
    if (t >= timeline.total) {
      finish();
      return;
    }
    if (playing) playFrom(t);
    else {
      token++;
      ready = false;
      updateButtons();
    }
    render();
    savePlace();
  }

  function next() {
    if (!timeline || !started) return;
    const here = sectionAt(t);
    const following = timeline.sections[here + 1];
    moveTo(following ? following.start : timeline.total);
  }

  function back() {
    if (!timeline || !started) return;
    const here = sectionAt(t);
    const start = timeline.sections[here].start;
    if (t - start > BACK_GRACE || here === 0) moveTo(start);
    else moveTo(timeline.sections[here - 1].start);
  }

  function repeat() {
    if (!timeline || !started) return;
    moveTo(timeline.sections[sectionAt(t)].start);
  }

  // Where the same pose side is in another session (or the next one it has).
  function placeIn(other, fromTimeline, x) {
    const section = fromTimeline.sections[fromTimeline.cues[cueAt(x, fromTimeline)].section];
    const same = other.sections.find((s) => s.key === section.key);
    if (same) return same.start;
    const number = Number(section.key);
    if (Number.isNaN(number)) return section.key === "closing" ? closingStart(other) : 0;
    const later = other.sections.find((s) => !Number.isNaN(Number(s.key)) && Number(s.key) > number);
    return later ? later.start : closingStart(other);
  }

  function closingStart(tl) {
    const closing = tl.sections.find((s) => s.key === "closing");
    return closing ? closing.start : 0;
  }

  // ------------------------------------------------------------------ choosing a session

  let choosing = 0;

  async function choose() {
    saveChoices();
    const name = nameOf(choices());
    if (timeline && timeline.name === name) return;
    const mine = ++choosing;
    status("");
    setText("summary", "Finding your session\u2026");
    let found;
    try {
      found = await fetchTimeline(name);
    } catch (error) {
      if (mine !== choosing) return;
      setText("summary", "");
      status(error.message === "offline"
        ? "That session isn't stored on this phone, and there's no connection."
        : `That session can't be had (${error.message}).`);
      updateButtons();
      return;
    }
    if (mine !== choosing) return;
    const before = timeline;
    const wasPlaying = playing;
    if (wasPlaying) stopPlaying();
    timeline = found;
    document.body.dataset.session = found.name;
    shownSection = -1;
    if (before && started) t = placeIn(found, before, t);
    else if (!started) t = 0;
    summary();
    render();
    updateButtons();
    if (wasPlaying) playFrom(t);
    store(found, false);
  }

  // ------------------------------------------------------------------ remembering the place

  function savePlace() {
    if (!timeline || !started || finished) return;
    savedAt = Date.now();
    try {
      localStorage.setItem(PLACE_KEY, JSON.stringify({ name: timeline.name, t, at: savedAt }));
    } catch (error) { /* nothing remembered */ }
  }

  function forgetPlace() {
    try {
      localStorage.removeItem(PLACE_KEY);
    } catch (error) { /* nothing remembered */ }
  }

  function offerPlace() {
    let place = null;
    try {
      place = JSON.parse(localStorage.getItem(PLACE_KEY) || "null");
    } catch (error) {
      place = null;
    }
    if (!place || !timeline || place.name !== timeline.name) return;
    if (!(Date.now() - place.at < RESUME_MS) || !(place.t > 1 && place.t < timeline.total - 5)) return;
    t = place.t;
    started = true;
    render();
    const section = timeline.sections[sectionAt(t)];
    const where = section.side ? `${section.pose}, ${section.side} side` : section.pose;
    setText("resume-text", `You stopped in ${where}, with ${minutes(timeline.total - t)} min to go.`);
    $("resume").hidden = false;
    updateButtons();
  }

  function afresh() {
    $("resume").hidden = true;
    forgetPlace();
    started = false;
    t = 0;
    token++;
    ready = false;
    render();
    updateButtons();
    $("play").focus();
  }

  // ------------------------------------------------------------------ offline

  async function store(tl, asked) {
    if (!canStore) {
      setText("storage", "This browser can't keep the session for offline use here (it needs https).");
      return;
    }
    const cache = await caches.open(CLIPS_CACHE);
    const wanted = [...new Set(tl.cues.map((cue) => cue.clip))];
    const keys = await cache.keys();
    const have = new Set(keys.map((request) => new URL(request.url).pathname + new URL(request.url).search));
    const paths = new Map(wanted.map((clip) => [new URL(clip, location.href).pathname, clip]));
    for (const request of keys) {
      const url = new URL(request.url);
      const clip = paths.get(url.pathname);
      if (clip && new URL(clip, location.href).search !== url.search) cache.delete(request);
    }
    const missing = wanted.filter((clip) => {
      const url = new URL(clip, location.href);
      return !have.has(url.pathname + url.search);
    });
    const saveData = navigator.connection && navigator.connection.saveData;
    let noStore = false;
    try {
      noStore = localStorage.getItem(NO_STORE_KEY) === "1";
    } catch (error) { /* as if not */ }
    if (missing.length && !asked && (saveData || noStore)) {
      setText("storage", `Not stored on this phone: this session needs ${megabytes(tl.bytes)} to play with no signal.`);
      showStoreButton("store");
      return;
    }
    if (asked) {
      try {
        localStorage.removeItem(NO_STORE_KEY);
      } catch (error) { /* as if not */ }
    }
    if (storing === tl.name) return;
    storing = tl.name;
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    let done = wanted.length - missing.length;
    let failed = 0;
    const queue = missing.slice();
    const progress = () => setText(
      "storage", `Storing this session for offline use: ${done} of ${wanted.length} clips\u2026`);
    if (queue.length) progress();
    const worker = async () => {
      while (queue.length && storing === tl.name) {
        const clip = queue.shift();
        try {
          const response = await fetch(clip);
          if (!response.ok) throw new Error(String(response.status));
          await cache.put(clip, response);
          done++;
        } catch (error) {
          failed++;
        }
        progress();
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (storing !== tl.name) return;
    storing = null;
    if (timeline && timeline.name !== tl.name) return;
    if (failed) {
      setText("storage", `${failed} of ${wanted.length} clips could not be stored (no connection?): this session needs a signal.`);
      showStoreButton("store");
      return;
    }
    let total = "";
    if (navigator.storage && navigator.storage.estimate) {
      try {
        const estimate = await navigator.storage.estimate();
        if (estimate.usage) total = ` The player keeps ${megabytes(estimate.usage)} on this phone in all.`;
      } catch (error) { /* no figure */ }
    }
    setText("storage", `Stored for offline use: this session's ${wanted.length} clips, ${megabytes(tl.bytes)}. It plays with no signal.${total}`);
    showStoreButton("forget");
  }

  function showStoreButton(kind) {
    const button = $("forget");
    button.hidden = false;
    button.dataset.kind = kind;
    setText("forget", kind === "forget" ? "Remove the stored clips" : "Store this session for offline use");
  }

  async function forgetOrStore() {
    if ($("forget").dataset.kind === "store") {
      if (timeline) store(timeline, true);
      return;
    }
    storing = null;
    try {
      localStorage.setItem(NO_STORE_KEY, "1");
    } catch (error) { /* as if not */ }
    await caches.delete(CLIPS_CACHE);
    await caches.delete(DATA_CACHE);
    setText("storage", "Removed the stored clips: sessions now need a signal.");
    showStoreButton("store");
  }

  // ------------------------------------------------------------------ the phone

  function updateMediaSession(section) {
    if (!("mediaSession" in navigator) || !("MediaMetadata" in window)) return;
    const icon = (name, size) => ({
      src: `player/${name}?v=${VERSION}`, sizes: `${size}x${size}`, type: "image/png",
    });
    navigator.mediaSession.metadata = new MediaMetadata({
      title: section.pose,
      artist: sideText(section) || "Post run yoga",
      album: "Post run yoga",
      artwork: [icon("icon-192.png", 192), icon("icon-512.png", 512)],
    });
    positionState();
  }

  function positionState() {
    if (!timeline || !("mediaSession" in navigator) || !navigator.mediaSession.setPositionState) return;
    try {
      navigator.mediaSession.setPositionState({
        duration: timeline.total, position: Math.min(t, timeline.total), playbackRate: 1,
      });
    } catch (error) { /* an old browser */ }
  }

  function mediaKeys() {
    if (!("mediaSession" in navigator)) return;
    const handlers = { play: resume, pause, stop: pause, nexttrack: next, previoustrack: back };
    for (const [action, handler] of Object.entries(handlers)) {
      try {
        navigator.mediaSession.setActionHandler(action, () => handler());
      } catch (error) { /* an action this browser doesn't have */ }
    }
  }

  async function keepAwake() {
    if (!("wakeLock" in navigator) || wakeLock || document.visibilityState !== "visible") return;
    try {
      wakeLock = await navigator.wakeLock.request("screen");
      wakeLock.addEventListener("release", () => { wakeLock = null; });
      if (!playing) letSleep();
    } catch (error) { /* not allowed now: the screen may sleep */ }
  }

  function letSleep() {
    if (wakeLock) wakeLock.release().catch(() => {});
    wakeLock = null;
  }

  // ------------------------------------------------------------------ wiring

  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, select, textarea")) return;
    const key = event.key.toLowerCase();
    if (key === " " && target.closest && target.closest("button")) return;
    const actions = { k: () => (playing ? pause() : resume()), " ": () => (playing ? pause() : resume()),
      n: next, b: back, r: repeat };
    if (actions[key]) {
      event.preventDefault();
      actions[key]();
    }
  }

  function start() {
    restoreChoices();
    $("play").addEventListener("click", () => (playing ? pause() : resume()));
    $("next").addEventListener("click", next);
    $("back").addEventListener("click", back);
    $("repeat").addEventListener("click", repeat);
    $("afresh").addEventListener("click", afresh);
    $("forget").addEventListener("click", forgetOrStore);
    $("fewer").addEventListener("click", () => { setBreaths(Number($("breaths").value) - 1); choose(); });
    $("more").addEventListener("click", () => { setBreaths(Number($("breaths").value) + 1); choose(); });
    $("choices").addEventListener("change", choose);
    $("choices").addEventListener("submit", (event) => event.preventDefault());
    document.addEventListener("keydown", onKey);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && playing) keepAwake();
      else savePlace();
    });
    window.addEventListener("pagehide", savePlace);
    mediaKeys();
    updateButtons();
    choose().then(offerPlace);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("sw.js").catch(() => {});
    }
  }

  start();
})();
