// The call page: one call with Ava over /ws/voice/<id> (docs/voice-protocol.md).
//
// The audio thread (call-worklet.js) decides turns and barge-ins; this module carries its
// frames and decisions to the server, the server's audio and words to the worklet and the
// page, and says plainly what went wrong when something does.

import {CallAudio, MicrophoneError} from "./audio.js";
import {TranscriptView} from "./transcript.js";

const config = JSON.parse(document.getElementById("call-config").textContent);
const $ = (id) => document.getElementById(id);
const ui = {
  root: $("call"), start: $("call-start"), end: $("call-end"), state: $("call-state"),
  meter: $("call-meter"), meterWrap: $("call-meter-wrap"), message: $("call-message"), offline: $("call-offline"),
  notice: $("call-notice"), tool: $("call-tool"), transcript: $("call-transcript"), form: $("call-type"),
  text: $("call-text"), send: $("call-send"),
};

const STATE_LABELS = {
  idle: "Ready to call", connecting: "Connecting…", listening: "Listening", thinking: "Thinking…",
  speaking: "Speaking", reconnecting: "Reconnecting…", ended: "Call ended",
};

const MESSAGES = {
  refused: "Your browser blocked the microphone. Allow the microphone for this site (in the address bar or "
    + "your browser's settings) and start the call again, or type your message below.",
  missing: "No microphone was found. Connect one and start the call again, or type your message below.",
  busy: "Your microphone could not be opened; another app may be using it. Close it and start the call "
    + "again, or type your message below.",
  unsupported: "This browser cannot use the microphone on this page (it needs a secure https address). "
    + "You can type your message below.",
  unreachable: "We can't reach the call service right now. Check your internet connection and try again.",
  lost: "The connection to the call service was lost, so the call has ended. You can start a new call.",
  too_many_calls: "Too many calls are open from your network right now. Hang up another call, then try again.",
};

const ENDINGS = {
  caller_hung_up: "You ended the call. Thank you for calling.",
  assistant_ended: "Ava ended the call. Thank you for calling.",
  time_limit: "The call reached its time limit and has ended. You are welcome to call again.",
  consent_declined: "The call ended because recording was not accepted.",
  too_many_calls: MESSAGES.too_many_calls,
  page_expired: "This call page has expired. Please reload it to call again.",
  upstream_unavailable: "Our assistant is not available right now. Please try again later.",
  upstream_lost: "The call was cut off: we lost the connection to our assistant.",
  error: "Something went wrong on our side, and the call has ended. We're sorry.",
};

// What the browser tests read: the page's own view of the call, as window.__avaCall. Only when the
// VOICE_CALL_PAGE_TEST_HOOK setting asks for it (config.test_hook = N > 0), and even then each list and
// map keeps only its last N entries, so a long call never grows it without end.
const HOOK_LIMIT = config.test_hook || 0;
const debug = HOOK_LIMIT > 0 ? {
  state: "idle", states: [], serverState: null, session: null, played: {}, itemStarts: {}, interrupts: [], commits: [],
  speechStarts: [], errors: [], ended: null, echo: null, sampleRate: null, captureStartedAt: null, microphoneOpenedAt: null,
  messagesSent: [],
  audioTime: () => (call && call.audio && call.audio.context ? call.audio.context.currentTime : null),
} : null;
if (debug) window.__avaCall = debug;

const hook = {
  set(field, value) {
    if (debug) debug[field] = value;
  },
  add(field, value) {
    if (!debug) return;
    const list = debug[field];
    list.push(value);
    if (list.length > HOOK_LIMIT) list.splice(0, list.length - HOOK_LIMIT);
  },
  put(field, key, value) {
    if (!debug) return;
    const map = debug[field];
    const known = Object.prototype.hasOwnProperty.call(map, key);
    map[key] = value;
    if (known) return;
    const keys = Object.keys(map); // insertion order: the oldest item first
    if (keys.length > HOOK_LIMIT) delete map[keys[0]];
  },
};

function newSessionId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes); // randomUUID needs a secure context; this does not
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The server only takes calls that carry the signed token issued with this page. A page
// left open for most of the token's life asks for a fresh one first.
const pageLoadedAt = Date.now();

async function callToken() {
  if (Date.now() - pageLoadedAt < config.token_max_age_ms * 0.8) return config.token;
  const response = await fetch(config.token_url, {cache: "no-store", credentials: "same-origin"});
  if (!response.ok) throw new Error(`call token: HTTP ${response.status}`);
  return (await response.json()).token;
}

class Call {
  constructor() {
    this.socket = null;
    this.audio = null;
    this.transcript = null;
    this.session = null;
    this.serverState = null;
    this.playing = false;
    this.ended = false;
    this.failure = null;
    this.currentItem = null;
    this.finishedItems = new Set();
  }

  start() {
    this.audio = new CallAudio((message) => this.onAudio(message));
    try {
      this.audio.unlock();
    } catch (error) {
      this.audio = null; // no Web Audio at all: the call still works by typing
    }
    this.render("connecting");
    callToken().then((token) => {
      if (this.ended) return;
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const query = `?token=${encodeURIComponent(token)}`;
      this.socket = new WebSocket(`${scheme}//${location.host}${config.ws_path}${newSessionId()}${query}`);
      this.socket.binaryType = "arraybuffer";
      this.socket.addEventListener("message", (event) => this.onMessage(event.data));
      this.socket.addEventListener("close", (event) => this.onClose(event));
    }, () => this.end("unreachable", {message: MESSAGES.unreachable}));
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
      hook.add("messagesSent", message.type);
    }
  }

  // --- from the server -------------------------------------------------------------------------
  onMessage(data) {
    if (this.ended) return;
    if (typeof data !== "string") {
      if (this.audio) this.audio.play(data);
      return;
    }
    const message = JSON.parse(data);
    switch (message.type) {
      case "session": return this.onSession(message);
      case "state":
        this.serverState = message.state;
        hook.set("serverState", message.state);
        return this.render();
      case "audio.start":
        this.currentItem = message.item_id;
        if (this.audio) this.audio.startItem(message.item_id);
        this.transcript.entry(message.item_id, "assistant");
        return this.render();
      case "audio.done":
        if (this.audio) this.audio.itemDone(message.item_id);
        return;
      case "audio.flush":
        if (this.audio) this.audio.flush();
        return;
      case "transcript": return this.transcript.show(message);
      case "tool":
        ui.tool.hidden = message.status !== "running";
        return;
      case "error": return this.onError(message);
      case "call.ended": return this.end(message.reason, {say: message.say, drain: true});
    }
  }

  onSession(session) {
    this.session = session;
    hook.set("session", session);
    this.transcript = new TranscriptView(ui.transcript, {assistantName: session.assistant_name});
    // Pressing Start next to the recording notice is the caller's consent.
    this.send({type: "start", consent: true});
    ui.offline.hidden = !session.offline_demo;
    ui.text.disabled = ui.send.disabled = false;
    ui.text.placeholder = `Type a message to ${session.assistant_name || "Ava"}`;
    if (session.offline_demo) ui.text.focus();
    if (!this.audio) return;
    const microphone = !session.offline_demo;
    this.audio.configure(session, config.thresholds);
    this.audio.open({microphone}).then(() => {
      hook.set("sampleRate", this.audio.sampleRate);
      hook.set("microphoneOpenedAt", this.audio.microphoneOpenedAt);
      if (microphone && !this.ended) {
        this.audio.capture(true);
        ui.meterWrap.hidden = false;
      }
    }, (error) => {
      hook.set("sampleRate", this.audio.sampleRate);
      if (this.ended) return;
      const kind = error instanceof MicrophoneError ? error.kind : "unsupported";
      hook.set("microphone", kind);
      this.show(MESSAGES[kind]);
      ui.text.focus();
    });
  }

  onError(message) {
    hook.add("errors", message.code);
    switch (message.code) {
      case "commit_empty":
        this.transcript.dropLastCallerTurn();
        return;
      case "assistant_unavailable":
        this.failure = message.message; // call.ended follows
        return;
      case "too_many_calls":
        this.failure = MESSAGES.too_many_calls;
        return;
      case "not_ready":
      case "text_too_long":
        this.notice(message.message);
        return;
      default:
        // Protocol slips (bad_message, unknown_item…) are the page's own; the call goes on.
        console.warn("Call:", message.code, message.message);
    }
  }

  onClose(event) {
    if (this.ended) return;
    if (!this.session) {
      this.end("unreachable", {message: event.code === 4429 ? MESSAGES.too_many_calls : MESSAGES.unreachable});
    } else {
      this.end("lost", {message: MESSAGES.lost});
    }
  }

  // --- from the audio thread ---------------------------------------------------------------------
  onAudio(message) {
    switch (message.type) {
      case "audio":
        if (this.socket && this.socket.readyState === WebSocket.OPEN && !this.ended) this.socket.send(message.pcm);
        return;
      case "barge-in":
        // Playback already stopped in the worklet; the server truncates Ava to what was heard.
        hook.add("interrupts", {id: message.id, played_ms: message.playedMs, reason: message.reason});
        hook.put("played", message.id, message.playedMs);
        this.send({type: "interrupt", item_id: message.id, played_ms: message.playedMs});
        return;
      case "speech-start":
        hook.add("speechStarts", {at: message.at, bargeIn: message.bargeIn});
        ui.meterWrap.classList.add("speaking");
        return;
      case "speech-end":
        ui.meterWrap.classList.remove("speaking");
        if (message.commit && !this.ended) {
          hook.add("commits", {utterance_ms: message.utteranceMs, silence_ms: message.silenceMs});
          this.send({type: "commit"});
          this.transcript.callerTurn();
        }
        return;
      case "level":
        ui.meter.value = Math.max(0, Math.min(1, (message.db + 60) / 60));
        hook.set("echo", message.echo);
        return;
      case "played":
        hook.put("played", message.id, message.playedMs);
        if (message.finished) this.finishedItems.add(message.id);
        return;
      case "item-start":
        hook.put("itemStarts", message.id, message.at);
        return;
      case "capture-started":
        hook.set("captureStartedAt", message.at);
        return;
      case "speaking":
        this.playing = message.on;
        return this.render();
      case "drained":
        this.audio.close();
    }
  }

  // --- the caller's actions --------------------------------------------------------------------
  type(text) {
    if (!this.session || this.ended) return;
    this.send({type: "text", text});
    this.transcript.typed(text);
  }

  hangUp() {
    this.send({type: "hangup"});
    this.end("caller_hung_up", {});
    if (this.socket) this.socket.close(1000);
  }

  // --- the end ---------------------------------------------------------------------------------
  end(reason, {say = "", drain = false, message = null}) {
    if (this.ended) return;
    this.ended = true;
    hook.set("ended", reason);
    if (this.audio) {
      if (drain) this.audio.finish(); // Ava's last words play out
      else this.audio.close();
    }
    ui.meterWrap.hidden = true;
    ui.tool.hidden = true;
    ui.text.disabled = ui.send.disabled = true;
    const text = message || this.failure || ENDINGS[reason] || ENDINGS.error;
    if (reason === "caller_hung_up") this.notice(text);
    else this.show(text);
    if (say) {
      if (this.transcript) this.transcript.note(say);
      speak(say);
    }
    this.render("ended");
    ui.start.textContent = "Start a new call";
  }

  // --- the page --------------------------------------------------------------------------------
  render(local) {
    if (local) this.local = local;
    let state = this.local;
    if (state !== "ended" && this.serverState) {
      const stillPlaying = this.playing || (this.serverState === "speaking" && !this.finishedItems.has(this.currentItem));
      state = stillPlaying ? "speaking" : this.serverState === "speaking" ? "listening" : this.serverState;
    }
    if (state !== this.shown) hook.add("states", state);
    this.shown = state;
    hook.set("state", state);
    ui.root.dataset.state = state;
    ui.state.textContent = STATE_LABELS[state] || state;
    const active = state !== "idle" && state !== "ended";
    ui.start.hidden = active;
    ui.end.hidden = !active;
  }

  show(text) {
    ui.message.textContent = text;
    ui.message.hidden = false;
  }

  notice(text) {
    ui.notice.textContent = text;
    ui.notice.hidden = false;
  }
}

function speak(text) {
  if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") return;
  try {
    window.speechSynthesis.speak(new SpeechSynthesisUtterance(text));
  } catch (error) {
    // Nothing more to do: the words are on the page.
  }
}

let call = null;

ui.start.addEventListener("click", () => {
  ui.message.hidden = true;
  ui.notice.hidden = true;
  ui.offline.hidden = true;
  ui.transcript.replaceChildren();
  ui.transcript.hidden = true;
  call = new Call();
  call.start();
});

ui.end.addEventListener("click", () => {
  if (call) call.hangUp();
});

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.text.value.trim();
  if (!text || !call) return;
  call.type(text);
  ui.text.value = "";
});

// The page going away hangs up, and lets go of the microphone and the audio even while Ava's last words
// were still playing out (a page kept in the back/forward cache would otherwise keep them).
window.addEventListener("pagehide", () => {
  if (!call) return;
  if (!call.ended) call.hangUp();
  if (call.audio) call.audio.close();
});

ui.root.dataset.ready = "true";
