// Lianhu large-print chat page. No framework, no build step.
(function () {
  "use strict";
  // The page's words come as a JSON data block: the Content-Security-Policy runs no inline script.
  const S = JSON.parse((document.getElementById("lianhu-strings") || {}).textContent || "{}");
  const $ = (id) => document.getElementById(id);
  const log = $("log"), choicesBox = $("choices"), statusBox = $("status"), input = $("text");
  const mic = $("mic"), readBtn = $("read");

  // The invitation link carries the token once; keep it on this phone and take it out of the address bar.
  const params = new URLSearchParams(location.search);
  let token = params.get("token");
  if (token) {
    localStorage.setItem("lianhu.token", token);
    history.replaceState(null, "", location.pathname);
  } else {
    token = localStorage.getItem("lianhu.token");
  }
  let readAloud = localStorage.getItem("lianhu.read") !== "off";
  let player = null;

  $("title").textContent = S.web_title || "";
  $("send").textContent = S.web_send || "";
  input.placeholder = S.web_placeholder || "";
  mic.textContent = S.web_hold || "";
  readBtn.textContent = S.web_read || "";
  readBtn.setAttribute("aria-pressed", String(readAloud));

  function status(text) {
    statusBox.hidden = !text;
    statusBox.textContent = text || "";
  }

  function add(text, who, extra) {
    const div = document.createElement("div");
    div.className = "msg " + who + (extra ? " " + extra : "");
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  function showChoices(choices) {
    choicesBox.replaceChildren();
    (choices || []).forEach((c) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.digit = c.digit;
      const d = document.createElement("span");
      d.className = "digit";
      d.textContent = c.digit;
      b.append(d, document.createTextNode(c.label));
      b.addEventListener("click", () => send(c.digit, c.digit + " " + c.label));
      choicesBox.appendChild(b);
    });
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

  function showReplies(replies) {
    replies.forEach((r) => add(r.text, "bot"));
    const last = replies[replies.length - 1];
    showChoices(last ? last.choices : []);
  }

  function play(blobOrBase64) {
    if (!blobOrBase64) return;
    if (player) player.pause();
    const src = typeof blobOrBase64 === "string" ? "data:audio/mpeg;base64," + blobOrBase64
      : URL.createObjectURL(blobOrBase64);
    player = new Audio(src);
    player.play().then(() => { window.lianhuPlayed = (window.lianhuPlayed || 0) + 1; }).catch(() => {});
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

  let busy = false;
  async function send(text, shown) {
    text = (text || "").trim();
    if (!text || busy) return;
    busy = true;
    add(shown || text, "me");
    showChoices([]);
    const msgId = newId();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const resp = await api("/api/chat", {
            method: "POST", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ msg_id: msgId, text }),  // same id on retry: answered once
          });
          const data = await resp.json();
          status("");
          showReplies(data.replies);
          speak(data.replies);
          break;
        } catch (e) {
          if (e.message === "unauthorized" || attempt >= 4) throw e;
          status(S.web_offline);
          await new Promise((r) => setTimeout(r, 1500 * (attempt + 1)));
        }
      }
    } catch (e) {
      if (e.message !== "unauthorized") status(S.web_offline);
    } finally {
      busy = false;
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

  // Hold to talk: record while pressed, send on release.
  let recorder = null, chunks = [], stream = null;
  const canRecord = !!(navigator.mediaDevices && window.MediaRecorder);
  if (!canRecord) mic.hidden = true;

  async function startRecording(ev) {
    ev.preventDefault();
    if (recorder || busy) return;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      status(S.web_mic_denied);
      return;
    }
    const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4"].find(
      (t) => MediaRecorder.isTypeSupported(t)) || "";
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    chunks = [];
    recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
    recorder.onstop = uploadRecording;
    recorder.start();
    mic.classList.add("recording");
    mic.textContent = S.web_release;
    status(S.web_listening);
  }

  function stopRecording(ev) {
    if (ev) ev.preventDefault();
    if (!recorder) return;
    recorder.stop();
    stream.getTracks().forEach((t) => t.stop());
    mic.classList.remove("recording");
    mic.textContent = S.web_hold;
    status("");
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
      showReplies(data.replies);
      play(data.audio);
    } catch (e) {
      pending.remove();
      if (e.message !== "unauthorized") status(S.web_offline);
    } finally {
      busy = false;
    }
  }

  mic.addEventListener("pointerdown", startRecording);
  mic.addEventListener("pointerup", stopRecording);
  mic.addEventListener("pointerleave", stopRecording);
  mic.addEventListener("pointercancel", stopRecording);
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
      add(msg.text, "bot", "pushed");
      if (msg.choices && msg.choices.length) showChoices(msg.choices);
      if (document.visibilityState === "visible") speak([{ text: msg.text, parts: [] }]);
    };
  }

  if (!token) {
    status(S.web_bad_link);
    mic.disabled = true;
    $("send").disabled = true;
    return;
  }
  if (S.hello) add(S.hello, "bot");
  window.lianhuReady = true;
  listen();
})();
