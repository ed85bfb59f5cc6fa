// The call's audio thread: one AudioWorkletProcessor that captures, decides turns and plays.
//
// Capture and playback share one processor on purpose: the VAD sees, in the same render
// quantum, exactly what Ava is playing (for the echo guard), and a barge-in stops playback
// in the very quantum the caller's speech is recognised, with the samples played counted
// to the sample (docs/voice-protocol.md, "Barge-in").
//
// Capture: the microphone (resampled to 24 kHz when the context runs at another rate) is cut
// into 10 ms VAD frames. Energy against an adaptive noise floor decides "voiced"; speech starts
// after `speech_start_ms` of voiced frames, and from then on PCM16 frames of `frame_ms` go to the
// page, the pre-roll first. The turn is committed `commit_silence_ms` after the last voiced frame,
// or `short_commit_silence_ms` after it when the utterance lasted `short_utterance_ms` or less.
// Only speech (plus its pre-roll and the silence before the commit) is sent: the server's buffer
// then holds exactly the caller's turn, never Ava's voice coming back through the speakers.
//
// Echo guard: Web Audio playback is not echo-cancelled by the browser. While Ava is audible,
// the mic must also beat the playback level (its peak over the echo window) times the echo
// coupling learned at the start of each stretch of playback, by `echo_margin_db`.

const RATE = 24000; // the protocol's rate: PCM16 mono 24 kHz
const VAD_SAMPLES = 240; // 10 ms
const VAD_MS = 10;
const START_GAP_MS = 20; // an unvoiced gap this long resets the speech-start debounce
const LEVEL_EVERY_FRAMES = 5; // the level meter gets a value every 50 ms
const PLAYED_EVERY_SAMPLES = 480; // played counters go to the page every 20 ms of playback
const PREBUFFER_SAMPLES = 1440; // 60 ms of Ava's audio before an item starts to play
const REBUFFER_SAMPLES = 960; // 40 ms after an underrun
const SILENT_LEVEL = 1e-4; // -80 dBFS: below this the playback is silent for the echo guard
const COUPLING_FLOOR = 0.03; // never trust the echo path to be quieter than -30 dB
const COUPLING_RELEASE = Math.pow(0.5, VAD_MS / 2000); // a learned coupling halves in 2 s
const COUPLING_ATTACK = 0.1; // per 10 ms frame, toward a louder echo than learned
const HYSTERESIS = 0.5; // once speaking, frames stay voiced down to half the start threshold

const ratio = (db) => Math.pow(10, db / 20);
const dbfs = (level) => (level > 0 ? 20 * Math.log10(level) : -120);

// A streaming linear resampler (the context's rate differs from 24 kHz only on some browsers).
class Resampler {
  constructor(from, to) {
    this.step = from / to;
    this.position = 0;
    this.previous = 0;
    // Going down, average the input over the step first: a cheap anti-aliasing filter.
    this.taps = this.step > 1 ? Math.ceil(this.step) : 1;
    this.history = new Float32Array(this.taps);
    this.historyAt = 0;
  }

  push(input, emit) {
    let source = input;
    if (this.taps > 1) {
      source = new Float32Array(input.length);
      for (let i = 0; i < input.length; i++) {
        this.history[this.historyAt] = input[i];
        this.historyAt = (this.historyAt + 1) % this.taps;
        let sum = 0;
        for (let k = 0; k < this.taps; k++) sum += this.history[k];
        source[i] = sum / this.taps;
      }
    }
    let p = this.position;
    while (Math.floor(p) + 1 < source.length) {
      const i = Math.floor(p);
      const a = i < 0 ? this.previous : source[i];
      emit(a + (source[i + 1] - a) * (p - i));
      p += this.step;
    }
    this.position = p - source.length;
    this.previous = source[source.length - 1];
  }
}

class AvaCallProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.vad = null; // the session's VAD values and the thresholds, set by "config"
    this.capturing = false;
    this.resampler = sampleRate === RATE ? null : new Resampler(sampleRate, RATE);
    this.captured = 0; // 24 kHz samples captured since capture began
    this.frame = new Float32Array(VAD_SAMPLES);
    this.frameFill = 0;
    this.floor = ratio(-70);
    this.speaking = false; // the caller, as the VAD decides
    this.candidateMs = 0;
    this.gapMs = 0;
    this.onset = 0;
    this.lastVoicedEnd = 0;
    this.sentSinceCommit = 0;
    this.frames = 0;
    this.levelPeak = 0;
    this.out = null;
    this.outFill = 0;
    this.ring = null;

    // Playback: a queue of Ava's audio, in order, each chunk tagged with its item.
    this.queue = [];
    this.queueHead = 0; // read position in queue[0]
    this.queued = 0;
    this.items = new Map();
    this.incoming = null; // the item the next binary frames belong to (the last audio.start)
    this.playing = false; // started after the pre-buffer; false again on underrun
    this.audible = false;
    this.sinceReport = 0;
    this.draining = false;
    this.underran = false;
    this.step = RATE / sampleRate; // source samples per output sample
    this.phase = 1;
    this.previousSample = 0;
    this.currentSample = 0;

    // Echo guard: the playback's level per 10 ms of output, kept for the echo window.
    this.outputFrame = Math.round(sampleRate / 100);
    this.outputEnergy = 0;
    this.outputCount = 0;
    this.envelope = new Float32Array(30);
    this.envelopeAt = 0;
    this.coupling = COUPLING_FLOOR;
    this.learnMs = 0;
    this.quietMs = Infinity;
    this.echo = {peakOverThreshold: 0, framesAboveBase: 0, learnedCoupling: 0};

    this.port.onmessage = (event) => this.onMessage(event.data);
  }

  onMessage(message) {
    switch (message.type) {
      case "config": this.configure(message); break;
      case "capture": this.setCapture(message.on); break;
      case "item": this.startItem(message.id); break;
      case "pcm": this.enqueue(message.data); break;
      case "item-done": this.itemDone(message.id); break;
      case "flush": this.bargeIn("server"); break;
      case "drain": this.draining = true; break;
    }
  }

  configure(config) {
    this.vad = config;
    this.frameSamples = Math.round(RATE * config.frameMs / 1000);
    this.maxFrameSamples = Math.floor(config.maxFrameBytes / 2);
    this.prerollSamples = Math.round(RATE * config.prerollMs / 1000);
    this.minCommitSamples = Math.round(RATE * config.minCommitMs / 1000);
    this.minLevel = ratio(config.minLevelDb);
    this.snr = ratio(config.snrDb);
    this.echoMargin = ratio(config.echoMarginDb);
    this.echoWindowFrames = Math.max(1, Math.ceil(config.echoWindowMs / VAD_MS));
    this.envelope = new Float32Array(this.echoWindowFrames);
    this.envelopeAt = 0;
    const ringMs = config.prerollMs + config.speechStartMs + START_GAP_MS + 100;
    this.ring = new Int16Array(Math.ceil(RATE * ringMs / 1000));
    this.out = new Int16Array(this.frameSamples);
    this.outFill = 0;
  }

  setCapture(on) {
    this.capturing = on && this.vad !== null;
    if (!this.capturing) {
      this.speaking = false;
      this.candidateMs = 0;
      this.outFill = 0;
    }
  }

  // --- playback ------------------------------------------------------------------------------
  startItem(id) {
    this.items.set(id, {played: 0, received: 0, done: false, cut: false, finished: false});
    this.incoming = id;
  }

  enqueue(buffer) {
    const item = this.items.get(this.incoming);
    if (!item || item.cut) return; // late audio of an item the caller interrupted
    const pcm = new Int16Array(buffer);
    if (!pcm.length) return;
    item.received += pcm.length;
    this.queue.push({id: this.incoming, pcm});
    this.queued += pcm.length;
  }

  itemDone(id) {
    const item = this.items.get(id);
    if (!item) return;
    item.done = true;
    if (!item.cut && item.played >= item.received && !this.queue.some((entry) => entry.id === id)) this.finish(id);
  }

  finish(id) {
    const item = this.items.get(id);
    if (item.finished) return;
    item.finished = true;
    this.port.postMessage({type: "played", id, playedMs: Math.floor(item.played * 1000 / RATE), finished: true});
  }

  avaSpeaking() {
    if (this.queued > 0) return true;
    const item = this.items.get(this.incoming);
    return !!item && !item.done && !item.cut && item.received > 0;
  }

  // Stop Ava now, drop what is buffered, and say how much of the item was played.
  bargeIn(reason) {
    const id = this.queue.length ? this.queue[0].id : this.incoming;
    const item = id !== null ? this.items.get(id) : undefined;
    const report = item && !item.cut ? {
      type: "barge-in", reason, id, playedMs: Math.floor(item.played * 1000 / RATE),
      receivedMs: Math.floor(item.received * 1000 / RATE), at: currentTime,
    } : null;
    for (const entry of this.queue) this.items.get(entry.id).cut = true;
    if (this.items.has(this.incoming)) this.items.get(this.incoming).cut = true;
    this.queue = [];
    this.queueHead = 0;
    this.queued = 0;
    this.playing = false;
    this.underran = false;
    this.currentSample = this.previousSample = 0;
    if (report) {
      this.port.postMessage(report);
      this.finish(id);
    }
    return report;
  }

  nextSample() {
    if (!this.playing) {
      const head = this.queue.length ? this.items.get(this.queue[0].id) : null;
      const need = this.underran ? REBUFFER_SAMPLES : PREBUFFER_SAMPLES;
      if (!head || (this.queued < need && !head.done)) return 0;
      this.playing = true;
      this.underran = false;
    }
    const entry = this.queue[0];
    const sample = entry.pcm[this.queueHead++];
    this.queued--;
    const item = this.items.get(entry.id);
    if (item.played === 0) this.port.postMessage({type: "item-start", id: entry.id, at: currentTime});
    item.played++;
    if (++this.sinceReport >= PLAYED_EVERY_SAMPLES) {
      this.sinceReport = 0;
      this.port.postMessage({type: "played", id: entry.id, playedMs: Math.floor(item.played * 1000 / RATE)});
    }
    if (this.queueHead >= entry.pcm.length) {
      this.queue.shift();
      this.queueHead = 0;
      const next = this.queue.length ? this.queue[0].id : null;
      if (next !== entry.id && (item.done || next !== null)) this.finish(entry.id);
      if (next === null) {
        this.playing = false;
        this.underran = !item.done;
      }
    }
    return sample / 32768;
  }

  play(output) {
    for (let i = 0; i < output.length; i++) {
      if (this.step === 1) {
        output[i] = this.nextSample();
      } else {
        while (this.phase >= 1) {
          this.previousSample = this.currentSample;
          this.currentSample = this.nextSample();
          this.phase -= 1;
        }
        output[i] = this.previousSample + (this.currentSample - this.previousSample) * this.phase;
        this.phase += this.step;
      }
      this.outputEnergy += output[i] * output[i];
      if (++this.outputCount === this.outputFrame) {
        const level = Math.sqrt(this.outputEnergy / this.outputCount);
        this.envelope[this.envelopeAt] = level;
        this.envelopeAt = (this.envelopeAt + 1) % this.envelope.length;
        this.outputEnergy = 0;
        this.outputCount = 0;
        if (level > SILENT_LEVEL) {
          // A new stretch of playback after the echo window of silence: learn its echo first.
          if (this.quietMs > this.envelope.length * VAD_MS) this.learnMs = this.envelope.length * VAD_MS;
          this.quietMs = 0;
        } else {
          this.quietMs += VAD_MS;
        }
      }
    }
    const audible = this.playing || this.queued > 0;
    if (audible !== this.audible) {
      this.audible = audible;
      this.port.postMessage({type: "speaking", on: audible});
    }
    if (this.draining && !audible) {
      this.draining = false;
      this.port.postMessage({type: "drained"});
    }
  }

  playbackEnvelope() {
    let peak = 0;
    for (let i = 0; i < this.envelope.length; i++) if (this.envelope[i] > peak) peak = this.envelope[i];
    return peak;
  }

  // --- capture -------------------------------------------------------------------------------
  capture(sample) {
    const at = this.captured++;
    if (this.ring) this.ring[at % this.ring.length] = toInt16(sample);
    if (this.speaking || this.vad.streamAll) this.send(sample);
    this.frame[this.frameFill++] = sample;
    if (this.frameFill === VAD_SAMPLES) {
      this.frameFill = 0;
      this.decide(this.captured);
    }
  }

  decide(frameEnd) {
    let energy = 0;
    for (let i = 0; i < VAD_SAMPLES; i++) energy += this.frame[i] * this.frame[i];
    const level = Math.sqrt(energy / VAD_SAMPLES);
    const base = Math.max(this.floor * this.snr, this.minLevel);
    let threshold = base;
    let learning = false;
    const envelope = this.playbackEnvelope();
    if (envelope > SILENT_LEVEL) {
      const ratioNow = level / envelope;
      if (this.learnMs > 0) {
        learning = true;
        this.learnMs -= VAD_MS;
        this.coupling = Math.max(this.coupling, Math.min(ratioNow, 4));
        this.echo.learnedCoupling = Math.max(this.echo.learnedCoupling, this.coupling);
      }
      const echoThreshold = envelope * Math.max(this.coupling, COUPLING_FLOOR) * this.echoMargin;
      threshold = Math.max(base, echoThreshold);
      if (!learning && level > base) {
        this.echo.framesAboveBase++;
        this.echo.peakOverThreshold = Math.max(this.echo.peakOverThreshold, level / echoThreshold);
      }
      if (!learning && !this.speaking && this.candidateMs === 0 && level <= echoThreshold) {
        // Ava alone: follow the echo path (a louder speaker, the AGC's gain) up gently, down slowly.
        // Never while the caller may be speaking, or their own voice would raise the bar against them.
        this.coupling = ratioNow > this.coupling ? this.coupling + (ratioNow - this.coupling) * COUPLING_ATTACK
          : Math.max(COUPLING_FLOOR, this.coupling * COUPLING_RELEASE);
      }
    }
    // The noise floor: down fast, up about 3 dB a second.
    this.floor = level < this.floor ? this.floor * 0.8 + level * 0.2 : this.floor * 1.00346;
    this.floor = Math.min(Math.max(this.floor, 1e-5), 0.05);

    const voiced = !learning && level > (this.speaking ? threshold * HYSTERESIS : threshold);
    if (this.vad.streamAll) {
      // The server's turn detection decides (turn_detection is not "none"): no commits here.
    } else if (!this.speaking) {
      if (voiced) {
        if (this.candidateMs === 0) this.onset = frameEnd - VAD_SAMPLES;
        this.candidateMs += VAD_MS;
        this.gapMs = 0;
        if (this.candidateMs >= this.vad.speechStartMs) this.startSpeech(frameEnd);
      } else if (this.candidateMs > 0) {
        this.gapMs += VAD_MS;
        if (this.gapMs > START_GAP_MS) this.candidateMs = 0;
      }
    } else {
      if (voiced) this.lastVoicedEnd = frameEnd;
      const silenceMs = (frameEnd - this.lastVoicedEnd) * 1000 / RATE;
      const utteranceMs = (this.lastVoicedEnd - this.onset) * 1000 / RATE;
      const wait = utteranceMs <= this.vad.shortUtteranceMs ? this.vad.shortCommitSilenceMs
        : this.vad.commitSilenceMs;
      if (silenceMs >= wait) this.endSpeech(utteranceMs, silenceMs);
    }

    this.levelPeak = Math.max(this.levelPeak, level);
    if (++this.frames % LEVEL_EVERY_FRAMES === 0) {
      this.port.postMessage({type: "level", db: dbfs(this.levelPeak), speaking: this.speaking,
                             echo: this.echo, coupling: this.coupling});
      this.levelPeak = 0;
    }
  }

  startSpeech(frameEnd) {
    // Ava stops first (in this very quantum), then the page says "interrupt", then the pre-roll.
    const bargeIn = this.avaSpeaking() ? this.bargeIn("caller") : null;
    this.speaking = true;
    this.lastVoicedEnd = frameEnd;
    this.port.postMessage({type: "speech-start", at: currentTime, bargeIn: !!bargeIn});
    const from = Math.max(this.onset - this.prerollSamples, frameEnd - this.ring.length + 1, 0);
    for (let start = from; start < frameEnd; start += this.maxFrameSamples) {
      const frame = new Int16Array(Math.min(this.maxFrameSamples, frameEnd - start));
      for (let i = 0; i < frame.length; i++) frame[i] = this.ring[(start + i) % this.ring.length];
      this.post(frame);
    }
  }

  endSpeech(utteranceMs, silenceMs) {
    this.speaking = false;
    this.candidateMs = 0;
    this.flushOut();
    const enough = this.sentSinceCommit >= this.minCommitSamples;
    if (enough) this.sentSinceCommit = 0;
    this.port.postMessage({type: "speech-end", commit: enough, utteranceMs: Math.round(utteranceMs),
                           silenceMs: Math.round(silenceMs), at: currentTime});
  }

  send(sample) {
    this.out[this.outFill++] = toInt16(sample);
    if (this.outFill === this.out.length) this.flushOut();
  }

  flushOut() {
    if (!this.outFill) return;
    this.post(this.out.slice(0, this.outFill));
    this.outFill = 0;
  }

  post(frame) {
    this.sentSinceCommit += frame.length;
    this.port.postMessage({type: "audio", pcm: frame.buffer}, [frame.buffer]);
  }

  process(inputs, outputs) {
    const input = inputs[0] && inputs[0][0];
    if (input && this.capturing) {
      if (this.captured === 0) this.port.postMessage({type: "capture-started", at: currentTime});
      if (this.resampler) this.resampler.push(input, (s) => this.capture(s));
      else for (let i = 0; i < input.length; i++) this.capture(input[i]);
    }
    if (this.speaking && this.queued > 0 && !this.playing) this.bargeIn("caller");
    const output = outputs[0];
    this.play(output[0]);
    for (let c = 1; c < output.length; c++) output[c].set(output[0]);
    return true;
  }
}

function toInt16(sample) {
  const s = sample < -1 ? -1 : sample > 1 ? 1 : sample;
  return s < 0 ? s * 0x8000 : s * 0x7fff;
}

registerProcessor("ava-call", AvaCallProcessor);
