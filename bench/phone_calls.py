"""Phone call benchmark: N concurrent Twilio Media Streams through the ASGI server, against a raw-websockets floor.

    .venv/bin/python bench/phone_calls.py                                     # 100 calls: the floor, then uvicorn
    .venv/bin/python bench/phone_calls.py --calls 25 100 --servers floor uvicorn --seconds 20
    .venv/bin/python bench/phone_calls.py --calls 100 --servers uvicorn --no-recordings

Four processes on loopback (two cores), started in this order:

* the OpenAI fake (tests/fakes/realtime_server.py, the tests' own, its simulator in audio/pcmu as the session
  asks), every audio delta 20 ms of mu-law, a reply streamed 1.25 times faster than real time (as OpenAI
  sends faster than the line plays); it keeps what each session sent it and when;
* the server under test: uvicorn running ava.asgi (the real webhook, TwilioMediaConsumer, phone transport,
  bridge and OpenAI SDK), or the floor: a minimal raw-websockets relay doing the same job in its own process
  (the same turn detector, 100 ms appends, media and a mark per delta, clear + cancel + truncate on barge-in);
* this load generator (uvloop): per call, Twilio's "a call comes in" webhook, signed, for the stream token,
  then the stream, signed: connected, start, and one 20 ms media frame every 20 ms whatever happens (as
  Twilio sends), playing what it is sent at real time, echoing each mark once the audio before it has
  played, honouring clear (queued audio dropped, pending marks echoed at once).

Each caller: hears the greeting, then in a loop says something (1.5 s of speech), falls silent until the
server commits the turn, hears the reply, and 1.5-3 s into it talks over it (a barge-in, which is also the
next turn). Every frame of audio carries its send time (CLOCK_MONOTONIC, shared) in its first 28 bytes, four
bits a byte in mu-law codes that keep speech loud and silence silent, so latency is measured per frame:

* up: a speech frame from the caller's line to the fake upstream (in a 100 ms append: "newest" is the
  newest frame of each append, the relay's own delay; per frame includes waiting for the append to fill);
* down: a frame of Ava's audio from the upstream to the line;
* turn: the frame on which the server's VAD decides (it runs the same detector, so the bench knows which
  frame that is) to the upstream's input_audio_buffer.commit, and whether the commit came after every
  frame of the turn; barge-in: the deciding frame to the line's `clear`, to the upstream's
  response.cancel and conversation.item.truncate;
* frames lost: speech frames that never reached the upstream; gaps in Ava's audio at the line.

Results are printed and written to bench/results/phone_calls-<time>.json; bench/README.md ("Phone calls")
records the figures.
"""

import argparse
import asyncio
import base64
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import websockets

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]  # bench/, the project
from voice_relay import free_port, percentile, proc_cpu_seconds, proc_rss_mb, use_uvloop  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
FRAME = 160  # 20 ms of 8 kHz mu-law: Twilio's media frame, always
TICK = 0.02
PHASES = 10  # the lines tick in 10 groups 2 ms apart, as calls placed at different moments do (not all at once)
API_KEY = "bench-key"
TWILIO_TOKEN = "bench-auth-token"
SPEECH_FRAMES = 75  # 1.5 s of speech per turn
GREETING_MS = 1500
# A reply long enough never to end before the caller talks over it (about 26 s of audio).
REPLY = ("Our HydraFacial takes about an hour. It cleanses, exfoliates and hydrates the skin, and there is no "
         "downtime, so most people go straight back to work. We have openings on Tuesday and Thursday mornings, "
         "and on Saturday afternoon. Would you like me to book one of those, or would you rather hear about the "
         "prices first? We also offer packages of three and six treatments at a lower price per visit.")

# --- the audio stamp: send time, line or response number, sequence; four bits in each of 28 mu-law bytes ---
STAMP_BYTES = 14
LOUD = (0x00, 0x80)  # mu-law codes 16,764-32,124 from zero, either sign: speech
QUIET = (0x70, 0xF0)  # within 120 of zero: the line's silence (VAD level about -56 dBFS)
_TABLES = {base: (bytes(base[0] | b >> 4 for b in range(256)), bytes(base[1] | b & 15 for b in range(256)))
           for base in (LOUD, QUIET)}
SPEECH_BODY = (bytes([0x00] * 10 + [0x80] * 10) * 8)[:FRAME - 2 * STAMP_BYTES]  # a loud 400 Hz square
SILENT_BODY = b"\xff" * (FRAME - 2 * STAMP_BYTES)


def now_ns():
    return time.monotonic_ns()


def stamp(base, number, seq, sent=None):
    raw = (sent or now_ns()).to_bytes(8, "little") + number.to_bytes(2, "little") + seq.to_bytes(4, "little")
    high, low = _TABLES[base]
    out = bytearray(2 * STAMP_BYTES)
    out[0::2] = raw.translate(high)
    out[1::2] = raw.translate(low)
    return bytes(out)


def read_stamp(frame):
    """(send ns, number, sequence, loud) of a stamped frame."""
    nibbles = frame[:2 * STAMP_BYTES]
    raw = bytes(((h & 15) << 4) | (lo & 15) for h, lo in zip(nibbles[0::2], nibbles[1::2]))
    return (int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:10], "little"),
            int.from_bytes(raw[10:14], "little"), frame[0] < 0x70)


def turn_settings():
    """The server's turn settings (the same environment), for the detector the bench runs ahead of time."""
    import django

    django.setup()
    from receptionist.phone.vad import TurnSettings
    return TurnSettings.from_settings()


def decision_frames(turn):
    """Which frame the server's detector decides on: the k-th loud frame starts a turn (barge-in or not), the
    j-th silent frame after SPEECH_FRAMES of speech commits it. Run on stamped frames like the bench's."""
    from receptionist.phone.vad import COMMIT, START, TurnDetector

    found = {}
    for playing in (False, True):
        detector = TurnDetector(turn)
        for n in range(100):
            detector.feed(stamp(QUIET, 0, n) + SILENT_BODY, playing=playing)
        for k in range(SPEECH_FRAMES):
            if detector.feed(stamp(LOUD, 0, k) + SPEECH_BODY, playing=playing) == START:
                found.setdefault(("start", playing), k)
        for j in range(1, 200):
            if detector.feed(stamp(QUIET, 0, j) + SILENT_BODY) == COMMIT:
                found.setdefault(("commit", playing), j)
                break
    assert found[("start", False)] == found[("start", True)], found  # speech this loud beats the echo margin
    return found[("start", True)], found[("commit", True)]


# --- the OpenAI fake (its own process) --------------------------------------------------------------------

def serve_upstream(out_path, pace):
    """The tests' FakeRealtimeServer, its audio stamped; prints "ready <port>", writes what it saw on SIGTERM."""
    import django

    django.setup()
    import tests.fakes.realtime_server as fake_module
    from receptionist.engines.simulated import RealtimeSimulator

    class StampedSimulator(RealtimeSimulator):
        """Every 20 ms chunk of a reply starts with its send time, the response's number and its sequence."""

        stamped_response, response_number, seq = None, 0, 0

        def audio_chunk(self, ms):
            if self.response is not self.stamped_response:
                self.stamped_response, self.response_number, self.seq = self.response, self.response_number + 1, 0
            self.seq += 1
            return stamp(QUIET, self.response_number, self.seq) + b"\xff" * (ms * 8 - 2 * STAMP_BYTES)

    fake_module.RealtimeSimulator = StampedSimulator
    original_init = fake_module.FakeSession.__init__

    def session_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.sent = collections.deque(maxlen=50)  # what it sent is not needed here: keep memory flat

    fake_module.FakeSession.__init__ = session_init

    async def main():
        fake = fake_module.FakeRealtimeServer(api_key=API_KEY, pace=pace, chunk_ms=20, default_reply=REPLY,
                                              greeting_audio_ms=GREETING_MS, check_wire=False)
        await fake.start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print(f"ready {fake.port}", flush=True)
        await stop.wait()
        sessions = []
        for session in fake.sessions:
            seen = {"line": None, "frames": [], "newest": [], "commits": [], "cancels": [], "truncates": []}
            last_loud = None
            for at, event in session.received:
                arrived = int(at * 1e9)  # perf_counter is CLOCK_MONOTONIC here, as time.monotonic_ns()
                kind = event.get("type")
                if kind == "input_audio_buffer.append":
                    audio = base64.b64decode(event["audio"])
                    newest = None
                    for offset in range(0, len(audio) - FRAME + 1, FRAME):
                        sent, line, seq, loud = read_stamp(audio[offset:offset + FRAME])
                        newest = max(newest or 0, sent)
                        if loud:
                            seen["line"] = line
                            seen["frames"].append((seq, sent, arrived))
                            last_loud = seq
                    if newest:
                        seen["newest"].append((newest, arrived - newest))
                elif kind == "input_audio_buffer.commit":
                    seen["commits"].append((arrived, last_loud))
                elif kind == "response.cancel":
                    seen["cancels"].append(arrived)
                elif kind == "conversation.item.truncate":
                    seen["truncates"].append((arrived, event.get("audio_end_ms")))
            sessions.append(seen)
        Path(out_path).write_text(json.dumps(sessions))
        await fake.stop()

    asyncio.run(main())


# --- the floor: a minimal raw-websockets phone relay (its own process) --------------------------------------

def serve_floor(port, upstream_url):
    import django

    django.setup()
    from receptionist.phone.vad import COMMIT, START, TurnDetector, TurnSettings
    from receptionist.prompt import say_exactly

    turn = TurnSettings.from_settings()
    session = {"type": "session.update", "session": {
        "type": "realtime", "output_modalities": ["audio"], "instructions": "Be brief.",
        "audio": {"input": {"format": {"type": "audio/pcmu"}, "turn_detection": None},
                  "output": {"format": {"type": "audio/pcmu"}}}}}
    greeting = json.dumps({"type": "response.create", "response": {
        "instructions": say_exactly("Thank you for calling. How can I help you today?")}})

    async def handler(line):
        sid = ""
        pending = collections.OrderedDict()  # mark name -> (item, end ms)
        ignored = set()
        played = collections.Counter()
        queued = collections.Counter()
        marked = collections.Counter()
        detector = TurnDetector(turn)
        gathered = bytearray()
        async with websockets.connect(upstream_url, additional_headers={"Authorization": f"Bearer {API_KEY}"},
                                      max_size=None, compression=None) as upstream:
            await upstream.send(json.dumps(session))

            async def down():
                async for message in upstream:
                    event = json.loads(message)
                    if event["type"] == "response.output_audio.delta":
                        item, payload = event["item_id"], event["delta"]
                        queued[item] += len(payload) * 3 // 4 // 8
                        await line.send('{"event":"media","streamSid":"%s","media":{"payload":"%s"}}' % (sid, payload))
                        if not marked[item] or queued[item] - marked[item] >= 100:  # a mark per 100 ms, as the relay
                            marked[item] = queued[item]
                            name = f"{item}:{queued[item]}"
                            pending[name] = (item, queued[item])
                            await line.send('{"event":"mark","streamSid":"%s","mark":{"name":"%s"}}' % (sid, name))

            task = asyncio.ensure_future(down())
            try:
                async for message in line:
                    event = json.loads(message)
                    kind = event.get("event")
                    if kind == "media":
                        frame = base64.b64decode(event["media"]["payload"])
                        decision = detector.feed(frame, playing=bool(pending))
                        if decision == START:
                            if pending:  # barge-in: clear the line, then cancel and truncate at what was heard
                                item = next(iter(pending.values()))[0]
                                await line.send('{"event":"clear","streamSid":"%s"}' % sid)
                                ignored.update(pending)
                                pending.clear()
                                await upstream.send('{"type":"response.cancel"}')
                                await upstream.send(json.dumps({"type": "conversation.item.truncate", "item_id": item,
                                                                "content_index": 0, "audio_end_ms": played[item]}))
                            gathered += b"".join(detector.preroll())
                        elif detector.speaking:
                            gathered += frame
                        if len(gathered) >= 800 or (decision == COMMIT and gathered):
                            audio, gathered = gathered, bytearray()
                            await upstream.send('{"type":"input_audio_buffer.append","audio":"%s"}'
                                                % base64.b64encode(audio).decode())
                        if decision == COMMIT:
                            await upstream.send('{"type":"input_audio_buffer.commit"}')
                            await upstream.send('{"type":"response.create","response":{}}')
                    elif kind == "mark":
                        name = event["mark"]["name"]
                        if name in ignored:
                            ignored.discard(name)
                        elif name in pending:
                            while pending:  # an echo proves the marks before it played too
                                done, (item, end) = pending.popitem(last=False)
                                played[item] = max(played[item], end)
                                if done == name:
                                    break
                    elif kind == "start":
                        sid = event["start"]["streamSid"]
                        await upstream.send(greeting)
                    elif kind == "stop":
                        break
            except websockets.ConnectionClosed:
                pass
            finally:
                task.cancel()

    async def main():
        async with websockets.serve(handler, "127.0.0.1", port, max_size=None, compression=None):
            print("ready", flush=True)
            await asyncio.Future()

    use_uvloop()
    asyncio.run(main())


# --- the load generator: the phone lines -------------------------------------------------------------------

class Line:
    """One caller's line, as Twilio runs it. The generator's clock calls `tick` every 20 ms for every line."""

    def __init__(self, index, ws, *, k_start, k_commit, rng):
        self.index, self.ws, self.rng = index, ws, rng
        self.k_start, self.k_commit = k_start, k_commit
        self.sid = "MZ%032x" % (index + 1)
        self.seq = self.chunk = self.k = 0
        self.state = "greeting"
        self.until = 0.0
        self.barging = False
        self.greeted = asyncio.Event()
        self.queue = collections.deque()  # ["a", bytes left, response] | ["m", name, None]
        self.last_response = 0  # the newest response number heard of
        self.reply_after = 0  # a reply is a response newer than this
        self.reply = None  # the reply being played
        self.reply_played = 0  # its bytes played
        self.barge_after = 0
        self.loud = []  # (seq, send ns) of every speech frame sent
        self.turn_last_loud = None
        self.decisions = []  # (kind, send ns of the deciding frame, extra)
        self.down = []  # (send ns, latency ns) of each frame of Ava's audio
        self.down_seqs = collections.defaultdict(list)  # response -> sequences received
        self.clears = []
        self.closed = False

    async def send(self, text):
        try:
            await self.ws.send(text)
        except websockets.ConnectionClosed:
            self.closed = True

    async def start(self, parameters):
        await self.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await self.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": self.sid, "start": {
            "streamSid": self.sid, "accountSid": "AC" + "1" * 32, "callSid": parameters["callSid"],
            "tracks": ["inbound"], "customParameters": parameters,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}))

    # what the caller says: one frame per tick
    def _frame(self, now):
        state = self.state
        if state == "greeting" and self.last_response and not self._audio_queued():
            self.state, self.until = "quiet", now + self.rng.uniform(0.2, 2.0)  # spread the callers out
            self.greeted.set()
        elif state == "quiet" and now >= self.until:
            self._speak(barge=False)
        elif state == "listening":
            if self.reply is not None and self.reply_played >= self.barge_after:
                self._speak(barge=True)
            elif now >= self.until:  # no reply came: speak again
                self.decisions.append(("no_reply", now_ns(), None))
                self._speak(barge=False)
        self.seq += 1
        sent = now_ns()
        if self.state == "speaking":
            frame = stamp(LOUD, self.index, self.seq, sent) + SPEECH_BODY
            self.loud.append((self.seq, sent))
            if self.k == self.k_start:
                self.decisions.append(("start", sent, self.barging))
            self.k += 1
            if self.k == SPEECH_FRAMES:
                self.state, self.k, self.turn_last_loud = "trailing", 0, self.seq
            return frame
        frame = stamp(QUIET, self.index, self.seq, sent) + SILENT_BODY
        if self.state == "trailing":
            self.k += 1
            if self.k == self.k_commit:
                self.decisions.append(("commit", sent, self.turn_last_loud))
                self.state, self.until = "listening", now + 5.0
                self.reply, self.reply_after = None, self.last_response
        return frame

    def _speak(self, *, barge):
        self.state, self.k, self.barging = "speaking", 0, barge

    def _audio_queued(self):
        return any(entry[0] == "a" for entry in self.queue)

    async def tick(self, now):
        if self.closed:
            return
        self.chunk += 1
        payload = base64.b64encode(self._frame(now)).decode()
        await self.send('{"event":"media","sequenceNumber":"%d","streamSid":"%s","media":{"track":"inbound",'
                        '"chunk":"%d","timestamp":"%d","payload":"%s"}}'
                        % (self.chunk + 1, self.sid, self.chunk, self.chunk * 20, payload))
        # play 20 ms; a mark is echoed once the audio before it has played
        budget = FRAME
        queue = self.queue
        while queue and (budget or queue[0][0] == "m"):
            entry = queue[0]
            if entry[0] == "m":
                queue.popleft()
                await self._echo(entry[1])
                continue
            taken = min(budget, entry[1])
            entry[1] -= taken
            budget -= taken
            if entry[2] == self.reply:
                self.reply_played += taken
            if not entry[1]:
                queue.popleft()

    async def hang_up(self):
        await self.send(json.dumps({"event": "stop", "sequenceNumber": "0", "streamSid": self.sid,
                                    "stop": {"accountSid": "AC" + "1" * 32, "callSid": "CA%032x" % (self.index + 1)}}))
        await self.ws.close()

    async def _echo(self, name):
        await self.send('{"event":"mark","streamSid":"%s","mark":{"name":"%s"}}' % (self.sid, name))

    async def listen(self):
        try:
            async for message in self.ws:
                event = json.loads(message)
                kind = event.get("event")
                if kind == "media":
                    arrived = now_ns()
                    audio = base64.b64decode(event["media"]["payload"])
                    response = self.last_response
                    for offset in range(0, len(audio) - 2 * STAMP_BYTES + 1, FRAME):  # one chunk, or several joined
                        sent, response, seq, _ = read_stamp(audio[offset:offset + 2 * STAMP_BYTES])
                        self.down.append((sent, arrived - sent))
                        self.down_seqs[response].append(seq)
                        self.last_response = max(self.last_response, response)
                        if self.state == "listening" and self.reply is None and response > self.reply_after:
                            self.reply, self.reply_played = response, 0
                            self.barge_after = int(self.rng.uniform(1.5, 3.0) * 8000)
                    if audio:
                        self.queue.append(["a", len(audio), response])
                elif kind == "mark":
                    self.queue.append(["m", event["mark"]["name"], None])
                elif kind == "clear":
                    self.clears.append(now_ns())
                    pending = [entry[1] for entry in self.queue if entry[0] == "m"]
                    self.queue.clear()
                    for name in pending:  # what Twilio does: the pending marks come back at once
                        await self._echo(name)
        except websockets.ConnectionClosed:
            pass
        self.closed = True


def signed_post(url, params):
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(),
                                     headers={"X-Twilio-Signature": signature})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def answer_call(base, n):
    """Twilio's "a call comes in" webhook: the <Stream>'s parameters (CallSid and its token)."""
    from xml.etree import ElementTree

    call_sid = "CA%032x" % (n + 1)
    twiml = signed_post(f"{base}/webhooks/twilio/voice", {
        "CallSid": call_sid, "AccountSid": "AC" + "1" * 32, "From": "+1212555%04d" % n, "To": "+12125550100",
        "CallStatus": "ringing", "Direction": "inbound"})
    stream = ElementTree.fromstring(twiml).find("./Connect/Stream")
    return {p.get("name"): p.get("value") for p in stream.findall("Parameter")}


def start_process(args, env, *, ready, log=None):
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    line = ""
    while time.monotonic() < deadline and ready is not None:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise RuntimeError(f"{args[:3]} exited with {process.returncode}")
        if line.startswith(ready):
            break
    def drain():  # so a chatty process never blocks on a full pipe; kept in `log` when given
        with open(log or os.devnull, "w") as out:
            for text in process.stdout:
                out.write(text)

    threading.Thread(target=drain, daemon=True).start()
    return process, line.strip()


def wait_for_port(port, timeout=60):
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def base_env(db_path, recordings):
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="ava.settings", DATABASE_URL=env.get("BENCH_DATABASE_URL") or f"sqlite:///{db_path}",
               REDIS_URL="", LOG_LEVEL="WARNING", ANALYTICS_SCORING_MAX_RETRIES="0",
               RECORDINGS_ENABLED="true" if recordings else "false",
               RECORDINGS_ROOT=str(Path(db_path).parent / "recordings"),
               RECORDINGS_SPOOL_DIR=str(Path(db_path).parent / "recordings-spool"))
    return env


async def run_one(server, calls, seconds, db_path, args, decisions):
    k_start, k_commit = decisions
    upstream_port_out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    env = base_env(db_path, not args.no_recordings)
    upstream, ready = start_process([PYTHON, __file__, "--serve-upstream", upstream_port_out, str(args.reply_pace)],
                                    env, ready="ready")
    upstream_port = int(ready.split()[1])
    server_port = free_port()
    env.update(OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=f"http://127.0.0.1:{upstream_port}/v1",
               TWILIO_AUTH_TOKEN=TWILIO_TOKEN, TWILIO_WEBHOOK_BASE_URL=f"http://127.0.0.1:{server_port}",
               PHONE_MAX_CONCURRENT_CALLS="1000", PHONE_STREAM_TOKEN_MAX_AGE_SECONDS="3600")
    if server == "uvicorn":
        command = [str(ROOT / ".venv/bin/uvicorn"), "ava.asgi:application", "--host", "127.0.0.1", "--port",
                   str(server_port), "--log-level", "warning", "--ws", args.uvicorn_ws, "--loop", "uvloop"]
        if os.environ.get("BENCH_SERVER_COMMAND"):  # e.g. a profiling wrapper, or another application
            command = os.environ["BENCH_SERVER_COMMAND"].format(port=server_port).split()
    else:
        command = [PYTHON, __file__, "--serve-floor", str(server_port),
                   f"ws://127.0.0.1:{upstream_port}/v1/realtime?model=gpt-realtime"]
    server_process, _ = start_process(command, env, ready=None,
                                      log=ROOT / "bench" / "results" / f"phone_calls-{server}.log")
    base = f"http://127.0.0.1:{server_port}"
    stream_url = f"ws://127.0.0.1:{server_port}/ws/twilio/media"
    from twilio.request_validator import RequestValidator
    handshake = {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(stream_url, {})}
    rng = random.Random(16)
    lines, listeners = [], []
    try:
        await asyncio.get_running_loop().run_in_executor(None, wait_for_port, server_port)
        loop = asyncio.get_running_loop()
        if server == "uvicorn":  # each call as Twilio places it: the signed webhook, then the signed stream
            parameters = [await loop.run_in_executor(None, answer_call, base, n) for n in range(calls)]
        else:
            parameters = [{"callSid": "CA%032x" % (n + 1), "token": "floor"} for n in range(calls)]
        rss_before = proc_rss_mb(server_process.pid)
        clock = {"stop": False, "late": []}

        async def run_clock():
            # One clock for every line: each line sends 20 ms of audio and plays 20 ms every 20 ms, on an absolute
            # schedule; a tenth of the lines every 2 ms.
            next_at = time.monotonic()
            phase = 0
            while not clock["stop"]:
                now = time.monotonic()
                clock["late"].append(now - next_at)
                for line in lines[phase::PHASES]:
                    await line.tick(now)
                phase = (phase + 1) % PHASES
                next_at += TICK / PHASES
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

        clock_task = asyncio.ensure_future(run_clock())
        ramp = min(3.0, 0.02 * calls)
        for n in range(calls):
            ws = await websockets.connect(stream_url, additional_headers=handshake, max_size=None, compression=None)
            line = Line(n, ws, k_start=k_start, k_commit=k_commit, rng=random.Random(rng.random()))
            await line.start(parameters[n])
            lines.append(line)
            listeners.append(asyncio.ensure_future(line.listen()))
            await asyncio.sleep(ramp / calls)
        await asyncio.wait_for(asyncio.gather(*(line.greeted.wait() for line in lines)), 120)
        await asyncio.sleep(1.0)
        start = now_ns() + 100_000_000
        window = (start, start + int(seconds * 1e9))
        await asyncio.sleep(0.1)
        profiler = None
        if os.environ.get("BENCH_PY_SPY"):  # e.g. /path/to/py-spy: a sampled profile of the window
            profiler = subprocess.Popen(
                [os.environ["BENCH_PY_SPY"], "record", "--pid", str(server_process.pid), "--duration",
                 str(int(seconds)), "--rate", "200", "--format", "raw", "--nonblocking", "--output",
                 str(ROOT / "bench" / "results" / f"profile-phone-{server}-{calls}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        cpu_start = proc_cpu_seconds(server_process.pid)
        harness_start = proc_cpu_seconds(upstream.pid), proc_cpu_seconds(os.getpid())
        await asyncio.sleep(seconds)
        cpu = (proc_cpu_seconds(server_process.pid) - cpu_start) / seconds
        upstream_cpu = (proc_cpu_seconds(upstream.pid) - harness_start[0]) / seconds
        generator_cpu = (proc_cpu_seconds(os.getpid()) - harness_start[1]) / seconds
        rss = proc_rss_mb(server_process.pid)
        connected = sum(1 for line in lines if not line.closed)
        if profiler is not None:
            await asyncio.get_running_loop().run_in_executor(None, profiler.wait, 120)
        late = sorted(clock["late"][-int(seconds * PHASES / TICK):])
        await asyncio.sleep(3.0)  # what the window's last decisions lead to arrives
        clock["stop"] = True
        await clock_task
        await asyncio.gather(*(line.hang_up() for line in lines), return_exceptions=True)
        await asyncio.gather(*listeners, return_exceptions=True)
    finally:
        for process in (server_process, upstream):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
    sessions = json.loads(Path(upstream_port_out).read_text())
    os.unlink(upstream_port_out)
    row = summarise(server, calls, seconds, window, lines, sessions, cpu, upstream_cpu, generator_cpu, rss, rss_before)
    row.update(connected=connected, generator_late_p99_ms=round(1000 * late[int(0.99 * (len(late) - 1))], 1))
    return row


def summarise(server, calls, seconds, window, lines, sessions, cpu, upstream_cpu, generator_cpu, rss, rss_before):
    start, end = window
    inside = lambda ns: start <= ns < end  # noqa: E731
    ms = lambda ns: None if ns is None else round(ns / 1e6, 2)  # noqa: E731
    by_line = {s["line"]: s for s in sessions if s["line"] is not None}
    arrived = {}  # (line, seq) -> arrival ns of each speech frame upstream
    up_newest = []
    for line_index, seen in by_line.items():
        for seq, sent, at in seen["frames"]:
            arrived[(line_index, seq)] = at
        up_newest += [lat for sent, lat in seen["newest"] if inside(sent)]
    up, up_lost = [], 0
    for line in lines:
        for seq, sent in line.loud:
            if inside(sent):
                if (line.index, seq) in arrived:
                    up.append(arrived[(line.index, seq)] - sent)
                else:
                    up_lost += 1
    down = [lat for line in lines for sent, lat in line.down if inside(sent)]
    down_gaps = 0
    for line in lines:
        for seqs in line.down_seqs.values():
            down_gaps += max(seqs) - len(set(seqs))  # sequences start at 1: a missing one before the last is lost

    def first_after(times, t, limit=5_000_000_000):
        later = [x for x in times if x >= t]
        return min(later) - t if later and min(later) - t < limit else None

    clears, cancels, truncates, commits, whole, barge_ins, turns, missing = [], [], [], [], 0, 0, 0, collections.Counter()
    for line in lines:
        seen = by_line.get(line.index, {"commits": [], "cancels": [], "truncates": []})
        for kind, sent, extra in line.decisions:
            if not inside(sent):
                continue
            if kind == "start" and extra:
                barge_ins += 1
                for name, times, out in (("clear", line.clears, clears), ("cancel", seen["cancels"], cancels),
                                         ("truncate", [t for t, _ in seen["truncates"]], truncates)):
                    delay = first_after(times, sent)
                    if delay is None:
                        missing[name] += 1
                    else:
                        out.append(delay)
            elif kind == "commit":
                turns += 1
                later = [(t, last) for t, last in seen["commits"] if t >= sent]
                if later and later[0][0] - sent < 5_000_000_000:
                    commits.append(later[0][0] - sent)
                    whole += later[0][1] == extra
                else:
                    missing["commit"] += 1
            elif kind == "no_reply":
                missing["reply"] += 1

    def p(values, q):
        return ms(percentile(values, q))

    return {
        "server": server, "calls": calls, "seconds": seconds,
        "up_p50_ms": p(up, 50), "up_p99_ms": p(up, 99), "up_newest_p50_ms": p(up_newest, 50),
        "up_newest_p99_ms": p(up_newest, 99), "down_p50_ms": p(down, 50), "down_p99_ms": p(down, 99),
        "up_frames": len(up) + up_lost, "up_lost": up_lost, "down_frames": len(down), "down_gaps": down_gaps,
        "commit_p50_ms": p(commits, 50), "commit_p99_ms": p(commits, 99), "turns": turns, "commits_whole": whole,
        "barge_ins": barge_ins, "clear_p50_ms": p(clears, 50), "clear_p99_ms": p(clears, 99),
        "cancel_p50_ms": p(cancels, 50), "cancel_p99_ms": p(cancels, 99),
        "truncate_p50_ms": p(truncates, 50), "truncate_p99_ms": p(truncates, 99), "missing": dict(missing),
        "cpu_cores": round(cpu, 3), "cpu_per_call_pct": round(100 * cpu / calls, 2),
        "upstream_cores": round(upstream_cpu, 3), "generator_cores": round(generator_cpu, 3),
        "rss_mb": round(rss, 1), "rss_per_call_mb": round((rss - rss_before) / calls, 3),
        "load_average": os.getloadavg()[0],
    }


def migrate(db_path):
    env = base_env(db_path, False)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


async def main(args):
    db_path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    migrate(db_path)
    os.environ.update(base_env(db_path, False))
    decisions = decision_frames(turn_settings())
    print(f"the server's VAD starts a turn on its speech frame {decisions[0] + 1} and commits it on the "
          f"{decisions[1]}th silent frame after", flush=True)
    rows = []
    for calls in args.calls:
        for server in args.servers:
            row = await run_one(server, calls, args.seconds, db_path, args, decisions)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print("| server | calls | up p50/p99 ms (newest) | down p50/p99 ms | lost up / down | commit p50/p99 ms (whole) | "
          "clear p50/p99 ms | cancel p50/p99 ms | CPU/call | RSS/call MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['server']} | {r['calls']} | {r['up_newest_p50_ms']} / {r['up_newest_p99_ms']} | "
              f"{r['down_p50_ms']} / {r['down_p99_ms']} | {r['up_lost']} of {r['up_frames']} / {r['down_gaps']} | "
              f"{r['commit_p50_ms']} / {r['commit_p99_ms']} ({r['commits_whole']} of {r['turns']}) | "
              f"{r['clear_p50_ms']} / {r['clear_p99_ms']} ({r['barge_ins']}) | {r['cancel_p50_ms']} / "
              f"{r['cancel_p99_ms']} | {r['cpu_per_call_pct']}% | {r['rss_per_call_mb']} |")
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    path = results_dir / f"phone_calls-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(rows, indent=2))
    print(f"\nwritten to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-upstream":
        use_uvloop()
        serve_upstream(sys.argv[2], float(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--serve-floor":
        serve_floor(int(sys.argv[2]), sys.argv[3])
    else:
        parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--calls", type=int, nargs="+", default=[100])
        parser.add_argument("--servers", nargs="+", default=["floor", "uvicorn"], choices=["floor", "uvicorn"])
        parser.add_argument("--seconds", type=float, default=20.0, help="length of the measuring window")
        parser.add_argument("--reply-pace", type=float, default=0.016,
                            help="seconds between the upstream's 20 ms chunks (0.016: 1.25 times real time)")
        parser.add_argument("--uvicorn-ws", default="websockets", choices=["websockets", "websockets-sansio", "wsproto"])
        parser.add_argument("--no-recordings", action="store_true",
                            help="RECORDINGS_ENABLED=false: the relay's own cost, without the call recorder")
        arguments = parser.parse_args()
        use_uvloop()
        asyncio.run(main(arguments))
