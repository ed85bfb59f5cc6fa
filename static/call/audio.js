// The call's audio graph: microphone -> "ava-call" worklet -> speakers (see call-worklet.js).
//
// The context runs at 24 kHz, the protocol's rate, so nothing is resampled in JavaScript. A
// browser that cannot join a microphone to a 24 kHz context (Firefox refuses mismatched rates)
// gets a context at its own rate, and the worklet resamples both ways.

const RATE = 24000;
const WORKLET_URL = new URL("./call-worklet.js", import.meta.url);
const ECHO_WINDOW_MS = 300; // how long Ava's voice may take to come back through the speakers
// Ava's last words play out after the call ends; the server queues at most 20 s toward a caller
// (VOICE_OUTBOUND_BUFFER_MS), so a drain that has not finished by then never will: close anyway.
const DRAIN_LIMIT_MS = 30000;

export class MicrophoneError extends Error {
  constructor(kind, cause) {
    super(kind);
    this.kind = kind; // "refused" | "missing" | "busy" | "unsupported"
    this.cause = cause;
  }
}

function microphoneError(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
    case "PermissionDeniedError":
      return new MicrophoneError("refused", error);
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return new MicrophoneError("missing", error);
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return new MicrophoneError("busy", error);
    default:
      return new MicrophoneError("unsupported", error);
  }
}

export class CallAudio {
  // onEvent(message) receives everything the worklet says (audio frames, speech, played counts…).
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.context = null;
    this.node = null;
    this.stream = null;
    this.source = null;
    this.pending = []; // messages for the worklet before it exists
    this.config = null;
    this.capturing = false;
    this.microphoneOpenedAt = null; // on the audio clock
    this.microphoneReleased = false; // the call has ended: a microphone that opens now is stopped at once
    this.closed = false;
    this.contextClosing = false;
    this.drainTimer = null;
  }

  // Must run inside the click that starts the call: browsers only let a gesture start audio.
  unlock() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) throw new MicrophoneError("unsupported");
    try {
      this.context = new Context({sampleRate: RATE, latencyHint: "interactive"});
    } catch (error) {
      this.context = new Context({latencyHint: "interactive"});
    }
    this.context.resume();
  }

  // Load the worklet and, when `microphone` is true, open the microphone. Throws MicrophoneError
  // when the microphone cannot be used; playback works either way.
  async open({microphone}) {
    const loaded = this.context.audioWorklet.addModule(WORKLET_URL);
    // Awaited below; if the call ends (and the context closes) while the microphone is being
    // opened, the load fails first, and an unawaited rejection must not reach the console.
    loaded.catch(() => {});
    let micError = null;
    if (microphone) {
      try {
        if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new MicrophoneError("unsupported");
        const stream = await navigator.mediaDevices.getUserMedia({
          audio: {echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1},
        });
        // The call may have ended while the browser opened the microphone: let it go at once.
        if (this.microphoneReleased) stopTracks(stream);
        else this.stream = stream;
        this.microphoneOpenedAt = this.context.currentTime;
      } catch (error) {
        micError = error instanceof MicrophoneError ? error : microphoneError(error);
      }
    }
    try {
      await loaded;
    } catch (error) {
      if (this.closed) return; // the call ended while the worklet loaded: nothing left to build
      throw error;
    }
    if (this.closed) return;
    if (this.stream) {
      try {
        this.source = this.context.createMediaStreamSource(this.stream);
      } catch (error) {
        // The microphone's rate cannot join a 24 kHz context here: run at the browser's rate.
        this.contextClosing = true;
        await this.context.close();
        this.context = new (window.AudioContext || window.webkitAudioContext)({latencyHint: "interactive"});
        this.contextClosing = false;
        // The call may end at any await here; close() then closes this new context too.
        if (this.closed) return this.close();
        await this.context.resume();
        if (this.closed) return this.close();
        await this.context.audioWorklet.addModule(WORKLET_URL);
        if (this.closed) return this.close();
        this.source = this.context.createMediaStreamSource(this.stream);
      }
    }
    this.node = new AudioWorkletNode(this.context, "ava-call", {
      numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
    });
    this.node.port.onmessage = (event) => this.onEvent(event.data);
    this.node.connect(this.context.destination);
    if (this.source) this.source.connect(this.node);
    for (const [message, transfer] of this.pending) this.node.port.postMessage(message, transfer);
    this.pending = [];
    if (micError) throw micError;
  }

  get hasMicrophone() {
    return !!this.source;
  }

  get sampleRate() {
    return this.context ? this.context.sampleRate : null;
  }

  post(message, transfer = []) {
    if (this.node) this.node.port.postMessage(message, transfer);
    else this.pending.push([message, transfer]);
  }

  // The session's VAD values (docs/voice-protocol.md) plus the page's thresholds.
  configure(session, thresholds) {
    const latency = this.context ? (this.context.outputLatency || 0) + (this.context.baseLatency || 0) : 0;
    this.post({
      type: "config",
      commitSilenceMs: session.vad.commit_silence_ms,
      shortCommitSilenceMs: session.vad.short_commit_silence_ms,
      shortUtteranceMs: session.vad.short_utterance_ms,
      speechStartMs: session.vad.speech_start_ms,
      prerollMs: session.vad.preroll_ms,
      frameMs: session.audio.frame_ms,
      maxFrameBytes: session.audio.max_frame_bytes,
      minCommitMs: session.min_commit_ms,
      // With OpenAI's turn detection the server hears everything and decides; else only speech is sent.
      streamAll: session.turn_detection !== "none",
      minLevelDb: thresholds.min_level_dbfs,
      snrDb: thresholds.snr_db,
      echoMarginDb: thresholds.echo_margin_db,
      echoWindowMs: ECHO_WINDOW_MS + Math.round(latency * 1000),
    });
  }

  capture(on) {
    this.capturing = on;
    this.post({type: "capture", on});
  }

  startItem(id) {
    this.post({type: "item", id});
  }

  play(buffer) {
    this.post({type: "pcm", data: buffer}, [buffer]);
  }

  itemDone(id) {
    this.post({type: "item-done", id});
  }

  flush() {
    this.post({type: "flush"});
  }

  // The microphone goes at once; Ava's audio already buffered plays out, then the context closes.
  finish() {
    if (this.closed) return;
    this.capture(false);
    this.releaseMicrophone();
    if (!this.node || !this.context || this.context.state !== "running") {
      this.close(); // nothing can play out
      return;
    }
    this.post({type: "drain"});
    this.drainTimer = setTimeout(() => this.close(), DRAIN_LIMIT_MS);
  }

  // Every way a call ends comes here (or to finish() then here): the microphone's tracks stop, so the
  // browser's recording indicator goes out, and the audio context closes. Safe to call again.
  close() {
    this.closed = true;
    this.releaseMicrophone();
    clearTimeout(this.drainTimer);
    if (this.node) this.node.port.onmessage = null;
    if (this.context && !this.contextClosing && this.context.state !== "closed") {
      this.contextClosing = true;
      this.context.close().catch(() => {}); // already closing: nothing more to do
    }
  }

  releaseMicrophone() {
    this.microphoneReleased = true;
    if (this.source) this.source.disconnect();
    if (this.stream) stopTracks(this.stream);
    this.stream = null;
  }
}

function stopTracks(stream) {
  stream.getTracks().forEach((track) => track.stop());
}
