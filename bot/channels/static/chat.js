// Lianhu large-print chat page. No framework, no build step; runs in old WebViews (WeChat, Android 7+).
(function () {
  "use strict";
  // The page's words come as a JSON data block: the Content-Security-Policy runs no inline script.
  const S = JSON.parse((document.getElementById("lianhu-strings") || {}).textContent || "{}");
  const P = S.page || {};  // screen-only words of this page (bot/strings: web.*)
  const $ = (id) => document.getElementById(id);
  const log = $("log"), messages = $("messages"), choicesBox = $("choices"), statusBox = $("status");
  const input = $("text"), mic = $("mic"), readBtn = $("read");

  // The invitation link carries the token once; keep it on this phone and take it out of the address bar.
  const params = new URLSearchParams(location.search);
  let token = params.get("token");
  const fromInvitation = !!token;
  if (token) {
    localStorage.setItem("lianhu.token", token);
    history.replaceState(null, "", location.pathname);
  } else {
    token = localStorage.getItem("lianhu.token");
  }
  let readAloud = localStorage.getItem("lianhu.read") !== "off";
  let player = null;

  // ---- Words and labels (all from the server's string catalog) ----
  function label() {
    $("title").textContent = S.web_title || "";
    $("send").textContent = S.web_send || "";
    input.placeholder = S.web_placeholder || "";
    input.setAttribute("aria-label", P.text_label || S.web_placeholder || "");
    mic.textContent = S.web_hold || "";
    readBtn.textContent = S.web_read || "";
    readBtn.setAttribute("aria-pressed", String(readAloud));
    log.setAttribute("aria-label", P.log_label || "");
    messages.setAttribute("aria-label", P.log_label || "");
    choicesBox.setAttribute("aria-label", P.choices_label || "");
    $("install-title").textContent = P.install_title || "";
    $("install-step1").textContent = P.install_step1 || "";
    $("install-step2").textContent = P.install_step2 || "";
    $("install-done").textContent = P.install_done || "";
  }
  label();

  function status(text) {
    statusBox.hidden = !text;
    statusBox.textContent = text || "";
  }

  // ---- The conversation: messages, choices once as buttons, the latest answer kept in view ----
  function add(text, who, extra) {
    const div = document.createElement("div");
    div.className = "msg " + who + (extra ? " " + extra : "");
    div.textContent = text;
    messages.appendChild(div);
    keepInView(div);
    return div;
  }

  function keepInView(el) {
    const r = el.getBoundingClientRect(), v = log.getBoundingClientRect();
    if (r.bottom > v.bottom) log.scrollTop += r.bottom - v.bottom + 8;
    if (r.top < v.top) log.scrollTop -= v.top - r.top + 8;
  }

  // The sentence without its numbered choices when the choices are shown as buttons.
  function shownText(m, asButtons) {
    return asButtons && m.choices && m.choices.length && m.body ? m.body : m.text;
  }

  function showChoices(choices) {
    choicesBox.replaceChildren();
    choicesBox.hidden = !(choices && choices.length);
    const longest = Math.max(0, ...(choices || []).map((c) => String(c.label).length));
    choicesBox.classList.toggle("wide", longest > 4);  // long labels: one choice per row
    (choices || []).forEach((c) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.digit = c.digit;
      const d = document.createElement("span");
      d.className = "digit";
      d.textContent = c.digit;
      b.append(d, document.createTextNode(" " + c.label));
      b.addEventListener("click", () => send(c.digit, c.digit + " " + c.label));
      choicesBox.appendChild(b);
    });
  }

  // Scroll to the start of the answer, never only its end; show what was asked too when all of it fits.
  function reveal(first, asked) {
    if (!first) return;
    const view = log.getBoundingClientRect();
    const end = choicesBox.hidden ? messages.lastElementChild : choicesBox;
    const bottom = end.getBoundingClientRect().bottom;
    const from = asked && bottom - asked.getBoundingClientRect().top + 16 <= log.clientHeight ? asked : first;
    log.scrollTop = Math.max(0, log.scrollTop + from.getBoundingClientRect().top - view.top - 8);
  }

  function showReplies(replies, asked) {
    const shown = replies.map((r, i) => add(shownText(r, i === replies.length - 1), "bot"));
    const last = replies[replies.length - 1];
    showChoices(last ? last.choices : []);
    reveal(shown[0], asked);
  }

  let lastPushed = Number(localStorage.getItem("lianhu.after") || 0);
  function showPushed(msg) {
    if (msg.id && msg.id <= lastPushed && messages.querySelector("[data-pushed='" + msg.id + "']")) return;
    lastPushed = Math.max(lastPushed, msg.id || 0);
    const hasChoices = !!(msg.choices && msg.choices.length);
    const div = add(shownText(msg, hasChoices), "bot", "pushed");
    div.dataset.pushed = String(msg.id || "");
    if (hasChoices) showChoices(msg.choices);
    reveal(div);
    if (document.visibilityState === "visible") speak([{ text: msg.text, parts: [] }]);
  }

  function newId() {
    return "w" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }

  async function api(path, options) {
    const headers = Object.assign({ Authorization: "Bearer " + token }, (options && options.headers) || {});
    const resp = await fetch(path, Object.assign({}, options, { headers }));
    if (resp.status === 401) {
      status(S.web_bad_link);
      throw new Error("unauthorized");
    }
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    return resp;
  }

  // ---- Reading aloud; when the browser blocks autoplay, a visible 「点这里听」 button ----
  function play(blobOrBase64) {
    if (!blobOrBase64) return;
    if (player) player.pause();
    const src = typeof blobOrBase64 === "string" ? "data:audio/mpeg;base64," + blobOrBase64
      : URL.createObjectURL(blobOrBase64);
    player = new Audio(src);
    const audio = player;
    audio.play().then(played).catch(() => offerListen(audio));
  }

  function played() {
    window.lianhuPlayed = (window.lianhuPlayed || 0) + 1;
    messages.querySelectorAll(".listen").forEach((b) => b.remove());
  }

  function offerListen(audio) {
    messages.querySelectorAll(".listen").forEach((b) => b.remove());
    const b = document.createElement("button");
    b.type = "button";
    b.className = "listen";
    b.textContent = P.listen || "";
    b.addEventListener("click", () => {
      if (player && player !== audio) player.pause();
      player = audio;
      audio.currentTime = 0;
      audio.play().then(played).catch(() => {});
    });
    messages.appendChild(b);
    keepInView(b);
  }

  async function speak(replies) {
    if (!readAloud || !replies.length) return;
    try {
      const resp = await api("/api/speak", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ messages: replies.map((r) => ({ text: r.text, body: r.body, parts: r.parts || [], choices: r.choices || [] })) }),
      });
      if (resp.status === 200) play(await resp.blob());
    } catch (e) { /* reading aloud is a bonus */ }
  }

  // ---- Sending: each message is kept on the phone until answered, retried with the same msg_id ----
  const OUTBOX = "lianhu.outbox";
  const RETRY_MS = 4000;
  let flushing = false, retryTimer = null;

  function outbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (e) { return []; }
  }

  function saveOutbox(items) {
    if (items.length) localStorage.setItem(OUTBOX, JSON.stringify(items));
    else localStorage.removeItem(OUTBOX);
  }

  function bubbleFor(item) {
    let div = messages.querySelector("[data-msg-id='" + item.id + "']");
    if (!div) {
      div = add(item.shown || item.text, "me");
      div.dataset.msgId = item.id;
    }
    return div;
  }

  function markUnsent(item, unsent) {
    const div = bubbleFor(item);
    div.classList.toggle("unsent", unsent);
    let note = div.querySelector(".unsent-note");
    if (unsent && !note) {
      note = document.createElement("span");
      note.className = "unsent-note";
      note.textContent = P.unsent || "";
      div.appendChild(note);
    } else if (!unsent && note) {
      note.remove();
    }
  }

  function send(text, shown) {
    text = (text || "").trim();
    if (!text) return;
    const item = { id: newId(), text: text, shown: shown || text };
    saveOutbox(outbox().concat([item]));
    bubbleFor(item);
    showChoices([]);
    $("install").hidden = true;  // the resident has moved on; it shows again on the next invitation link
    flush();
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    clearTimeout(retryTimer);
    try {
      let items = outbox();
      while (items.length) {
        const item = items[0];
        const data = await deliver(item);
        if (!data) {
          items.forEach((it) => markUnsent(it, true));
          status(S.web_offline);
          retryTimer = setTimeout(flush, RETRY_MS);
          return;
        }
        saveOutbox(outbox().filter((it) => it.id !== item.id));
        markUnsent(item, false);
        status("");
        showReplies(data.replies, bubbleFor(item));
        speak(data.replies);
        items = outbox();
      }
    } catch (e) {
      /* unauthorized: the page already says the link is bad */
    } finally {
      flushing = false;
    }
  }

  // One try: the answer, or null when it did not get through (to be retried with the same msg_id).
  async function deliver(item) {
    try {
      const resp = await api("/api/chat", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ msg_id: item.id, text: item.text }),  // same id on retry: answered once
      });
      return await resp.json();
    } catch (e) {
      if (e.message === "unauthorized") throw e;
      if (/^HTTP 4/.test(e.message) && !/^HTTP (408|429)/.test(e.message)) {  // refused for good: no retry
        saveOutbox(outbox().filter((it) => it.id !== item.id));
        return { replies: [] };
      }
      return null;
    }
  }

  $("form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = input.value;
    input.value = "";
    send(t);
  });

  readBtn.addEventListener("click", () => {
    readAloud = !readAloud;
    localStorage.setItem("lianhu.read", readAloud ? "on" : "off");
    readBtn.setAttribute("aria-pressed", String(readAloud));
    if (!readAloud && player) player.pause();
  });

  // ---- Talking: hold to talk; a short tap starts, a second tap stops (WeChat, old WebViews, keyboard) ----
  const TAP_MS = 400;
  let recorder = null, chunks = [], stream = null, busy = false;
  let starting = false, stopWhenStarted = false, tapMode = false, pressedAt = 0;
  const canRecord = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
  if (!canRecord) mic.hidden = true;

  async function startRecording() {
    if (recorder || starting || busy) return;
    starting = true;
    stopWhenStarted = false;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      starting = false;
      micRefused();
      return;
    }
    const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4"].find(
      (t) => MediaRecorder.isTypeSupported(t)) || "";
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    chunks = [];
    recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
    recorder.onstop = uploadRecording;
    recorder.start();
    starting = false;
    mic.classList.add("recording");
    mic.setAttribute("aria-pressed", "true");
    mic.textContent = tapMode ? P.tap_talk || "" : S.web_release;
    status(tapMode ? P.tap_listening : S.web_listening);
    if (stopWhenStarted) stopRecording();
  }

  function stopRecording() {
    if (starting) { stopWhenStarted = true; return; }
    if (!recorder) return;
    tapMode = false;
    if (recorder.state !== "inactive") recorder.stop();
    stream.getTracks().forEach((t) => t.stop());
    mic.classList.remove("recording");
    mic.removeAttribute("aria-pressed");
    mic.textContent = S.web_hold;
    status("");
  }

  // Permission denied or no microphone: say so plainly and open the typing path (digits work too).
  function micRefused() {
    tapMode = false;
    mic.textContent = S.web_hold;
    status(S.web_mic_denied);
    add(S.web_mic_denied, "bot", "note");
    input.focus();
  }

  function micDown(ev) {
    ev.preventDefault();
    if (recorder || starting) {
      if (tapMode) stopRecording();
      return;
    }
    pressedAt = Date.now();
    tapMode = false;
    startRecording();
  }

  function micUp(ev) {
    if (ev) ev.preventDefault();
    if (!(recorder || starting) || tapMode) return;
    if (Date.now() - pressedAt < TAP_MS) {  // a tap, not a hold: keep listening until the next tap
      tapMode = true;
      mic.textContent = P.tap_talk || "";
      status(P.tap_listening);
      return;
    }
    stopRecording();
  }

  function micLeave() {
    if (starting && !recorder && !stopWhenStarted) {  // e.g. the permission prompt took the finger away: go on as a tap
      tapMode = true;
      return;
    }
    if (!tapMode) stopRecording();
  }

  // Keyboard (Enter/Space) and browsers without pointer events: tap to start, tap again to stop.
  function micClick(ev) {
    if (window.PointerEvent && ev.detail !== 0) return;  // pointer taps are handled by down/up
    if (recorder || starting) { stopRecording(); return; }
    tapMode = true;
    startRecording();
  }

  async function uploadRecording() {
    const type = (recorder.mimeType || "audio/webm").split(";")[0];
    const blob = new Blob(chunks, { type });
    recorder = null;
    if (!blob.size) return;
    busy = true;
    const pending = add("🎤 …", "me");
    showChoices([]);
    try {
      const resp = await api("/api/voice?msg_id=" + newId(), { method: "POST", headers: { "Content-Type": type }, body: blob });
      const data = await resp.json();
      pending.textContent = data.heard ? "🎤 " + data.heard : "🎤";
      showReplies(data.replies, pending);
      play(data.audio);
    } catch (e) {
      pending.remove();
      if (e.message !== "unauthorized") status(S.web_offline);
    } finally {
      busy = false;
    }
  }

  if (window.PointerEvent) {
    mic.addEventListener("pointerdown", micDown);
    mic.addEventListener("pointerup", micUp);
    mic.addEventListener("pointerleave", micLeave);
    mic.addEventListener("pointercancel", micLeave);
  }
  mic.addEventListener("click", micClick);
  mic.addEventListener("contextmenu", (e) => e.preventDefault());

  // Pushed messages (ticket accepted, resolved, tasks for leaders) arrive as server-sent events.
  // EventSource cannot send the Authorization header: the server sets a cookie only /api/events
  // receives (the token never goes into a URL), renewed whenever the stream gives up.
  async function listen() {
    try {
      await api("/api/events/session", { method: "POST" });
    } catch (e) {
      if (e.message !== "unauthorized") setTimeout(listen, 5000);
      return;
    }
    const after = Number(localStorage.getItem("lianhu.after") || 0);
    const es = new EventSource("/api/events?after=" + after);
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) setTimeout(listen, 3000);
    };
    es.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      localStorage.setItem("lianhu.after", String(msg.id));
      showPushed(msg);
    };
    return es;
  }

  // ---- Coming back: the network returns or the page is shown again → resend, reconnect, catch up ----
  function keepListening() {
    listen();  // when the browser gives up, listen() starts again (a fresh cookie, from the last seen id)
    function revive() {
      if (outbox().length) flush();
    }
    window.addEventListener("online", revive);
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") revive(); });
    setInterval(revive, 10000);
  }

  // ---- The invitation link: how to put the page on the home screen, in two pictures ----
  function offerInstall() {
    const standalone = window.matchMedia && window.matchMedia("(display-mode: standalone)").matches;
    if (!fromInvitation || standalone) return;
    const box = $("install");
    box.hidden = false;
    $("install-done").addEventListener("click", () => { box.hidden = true; input.focus(); });
  }

  if (!token) {
    status(S.web_bad_link);
    mic.disabled = true;
    $("send").disabled = true;
    return;
  }
  if (S.hello) add(S.hello, "bot");
  showChoices([]);
  offerInstall();
  outbox().forEach((item) => markUnsent(item, true));  // left unsent last time: shown, then sent now
  window.lianhuReady = true;
  keepListening();
  flush();
})();
