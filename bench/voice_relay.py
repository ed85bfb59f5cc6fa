"""Voice relay benchmark: N simulated callers through the ASGI server to a fake Realtime upstream.

    .venv/bin/python bench/voice_relay.py                       # 1, 25, 100 calls; floor, daphne, uvicorn; 20 and 40 ms
    .venv/bin/python bench/voice_relay.py --calls 100 --servers uvicorn --frame-ms 40 --seconds 6
    .venv/bin/python bench/voice_relay.py --calls 200 --servers floor uvicorn --frame-ms 40 --no-recordings
    BENCH_PY_SPY=/path/to/py-spy .venv/bin/python bench/voice_relay.py ...   # + a sampled profile of the server

Three processes on loopback: the server under test (Daphne or uvicorn running ava.asgi, or the
"floor": a minimal raw-websockets relay doing the same job), a fake upstream speaking the Realtime
GA events, and this load generator. Each caller sends a PCM16 frame every `frame_ms` (real-time
pace) and the upstream streams a reply at the same pace, so audio flows both ways at once. Every
frame carries its send time (CLOCK_MONOTONIC, shared by the processes) in its first bytes:

* latency per frame, each direction (page -> upstream as input_audio_buffer.append; upstream ->
  page as a binary frame), p50/p99, and the relay's added latency over the floor;
* frames lost, each direction;
* the server's CPU (share of one core) and memory (RSS growth) per call;
* interrupt -> response.cancel: from the page sending `interrupt` to the upstream receiving the
  cancel (after the measuring window, so dropped late audio does not count as lost);
* commit -> input_audio_buffer.commit: 300 ms after its interrupt each caller commits its turn; the time
  from the page's `commit` to the upstream's commit, and whether the commit came after every frame the
  page sent before it (the relay gathers the caller's audio into 100 ms appends: a commit sends them first).

Up latency is per frame, so with appends it includes the wait for the append to fill (a frame waits up
to an append's length); "newest" is per append, its newest frame: the relay's own delay.

Results are printed and written to bench/results/voice_relay-<time>.json. bench/README.md
("Voice relay") records the figures and the choices made from them.
"""

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Send time (ns, CLOCK_MONOTONIC), caller, sequence, padding: 18 bytes, a multiple of 3, so the
# base64 of a frame is the header's base64 followed by the (precomputed) base64 of its silent tail.
HEADER = struct.Struct("<qiixx")
BYTES_PER_MS = 48
APPEND_PREFIX = '{"type":"input_audio_buffer.append","audio":"'
UVICORN_WS = "websockets"  # --uvicorn-ws: uvicorn's websocket implementation
UVICORN_OPTIONS = []  # --uvicorn-option: more of uvicorn's options, e.g. --ws-per-message-deflate=false
RECORDINGS = True  # --no-recordings: the relay without the call recorder (issue 17), for its own cost


def now_ns():
    return time.monotonic_ns()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_TAILS = {}


def tail(frame_ms):
    if frame_ms not in _TAILS:
        silence = bytes(frame_ms * BYTES_PER_MS - HEADER.size)
        _TAILS[frame_ms] = (silence, base64.b64encode(silence).decode())
    return _TAILS[frame_ms]


def frame(frame_ms, caller, seq):
    return HEADER.pack(now_ns(), caller, seq) + tail(frame_ms)[0]


def frame_b64(frame_ms, caller, seq):
    return base64.b64encode(HEADER.pack(now_ns(), caller, seq)).decode() + tail(frame_ms)[1]


def header_of_b64(text):
    return HEADER.unpack(base64.b64decode(text[:24]))


def use_uvloop():
    # The load generator and the fake upstream must not be the bottleneck on a 2-core machine.
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- the fake upstream (its own process) ---------------------------------------------------------

async def serve_upstream(port, frame_ms, out_path):
    appends = []  # (sent_ns, caller, latency_ns) of every frame
    newest = []  # (sent_ns, latency_ns) of the newest frame of each append
    last_seq = {}  # caller -> the last sequence number received
    commits = {}  # caller -> (ns the commit arrived, last sequence number received before it)
    frame_bytes = frame_ms * BYTES_PER_MS
    sent_down = []  # sent_ns of every downstream frame
    cancels = {}  # caller -> ns the cancel arrived
    stop = asyncio.Event()

    def received(audio_b64):
        arrived = now_ns()
        data = base64.b64decode(audio_b64)
        latency = caller = seq = None
        for offset in range(0, len(data) - HEADER.size + 1, frame_bytes):
            sent_ns, caller, seq = HEADER.unpack_from(data, offset)
            latency = arrived - sent_ns
            appends.append((sent_ns, caller, latency))
        newest.append((sent_ns, latency))
        last_seq[caller] = seq
        return caller

    async def handler(ws):
        caller = -1
        stream = None
        events = 0

        async def send(event):
            nonlocal events
            events += 1
            await ws.send(json.dumps({"event_id": f"e{events}", **event}))

        async def speak(response_id):
            item_id = f"item_{response_id}"
            await send({"type": "response.created", "response": {"id": response_id, "status": "in_progress"}})
            await send({"type": "response.output_item.added", "response_id": response_id, "output_index": 0,
                        "item": {"id": item_id, "type": "message", "role": "assistant", "content": []}})
            await send({"type": "conversation.item.added", "previous_item_id": None,
                        "item": {"id": item_id, "type": "message", "role": "assistant", "content": []}})
            seq = 0
            next_at = time.monotonic()
            prefix = ('{"type":"response.output_audio.delta","response_id":"%s","item_id":"%s",'
                      '"output_index":0,"content_index":0,"delta":"' % (response_id, item_id))
            try:
                while True:
                    audio = frame_b64(frame_ms, caller, seq)
                    sent_down.append(header_of_b64(audio)[0])
                    await ws.send(prefix + audio + '"}')
                    seq += 1
                    next_at += frame_ms / 1000
                    await asyncio.sleep(max(0, next_at - time.monotonic()))
            except asyncio.CancelledError:
                await send({"type": "response.done", "response": {"id": response_id, "status": "cancelled",
                                                                  "output": [], "usage": None}})
                raise

        await send({"type": "session.created", "session": {"type": "realtime"}})
        responses = 0
        try:
            async for message in ws:
                if message.startswith(APPEND_PREFIX):  # the hot path: one or more frames, each with its header
                    caller = received(message[len(APPEND_PREFIX):message.index('"', len(APPEND_PREFIX))])
                    continue
                event = json.loads(message)
                kind = event["type"]
                if kind == "input_audio_buffer.append":
                    caller = received(event["audio"])
                elif kind == "input_audio_buffer.commit":
                    commits.setdefault(caller, (now_ns(), last_seq.get(caller)))
                elif kind == "session.update":
                    await send({"type": "session.updated", "session": event["session"]})
                elif kind == "response.create":
                    responses += 1
                    stream = asyncio.ensure_future(speak(f"resp_{id(ws)}_{responses}"))
                elif kind == "response.cancel":
                    cancels.setdefault(caller, now_ns())
                    if stream:
                        stream.cancel()
                elif kind == "conversation.item.truncate":
                    await send({"type": "conversation.item.truncated", "item_id": event["item_id"],
                                "content_index": 0, "audio_end_ms": event["audio_end_ms"]})
        except websockets.ConnectionClosed:
            pass
        finally:
            if stream:
                stream.cancel()

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with websockets.serve(handler, "127.0.0.1", port, max_size=None, compression=None):
        print("ready", flush=True)
        await stop.wait()
    Path(out_path).write_text(json.dumps({"appends": appends, "newest": newest, "sent_down": sent_down,
                                          "cancels": cancels, "commits": commits}))


# --- the floor: a minimal raw-websockets relay (its own process) ------------------------------------

async def serve_floor(port, upstream_url):
    async def handler(page):
        async with websockets.connect(upstream_url, max_size=None, compression=None) as upstream:
            await upstream.send(json.dumps({"type": "session.update", "session": {"type": "realtime"}}))
            await page.send('{"type":"session"}')  # the call exists: the page may start its microphone

            async def down():
                async for message in upstream:
                    event = json.loads(message)
                    if event["type"] == "response.output_audio.delta":
                        await page.send(base64.b64decode(event["delta"]))

            downstream = asyncio.ensure_future(down())
            try:
                async for message in page:
                    if isinstance(message, bytes):
                        await upstream.send(APPEND_PREFIX + base64.b64encode(message).decode() + '"}')
                    else:
                        kind = json.loads(message)["type"]
                        if kind == "start":
                            await upstream.send('{"type":"response.create","response":{}}')
                        elif kind == "interrupt":
                            await upstream.send('{"type":"response.cancel"}')
                        elif kind == "commit":
                            await upstream.send('{"type":"input_audio_buffer.commit"}')
            except websockets.ConnectionClosed:
                pass
            finally:
                downstream.cancel()

    async with websockets.serve(handler, "127.0.0.1", port, max_size=None, compression=None):
        print("ready", flush=True)
        await asyncio.Future()


# --- the load generator --------------------------------------------------------------------------

async def caller(index, url, frame_ms, window, streaming, results):
    """One caller: real-time frames up, the reply's frames down; counts only inside `window` (set later)."""
    sent = received = 0
    latencies = []
    frame_bytes = frame_ms * BYTES_PER_MS
    # As a browser, the caller offers permessage-deflate (Chrome and Firefox always do); the server decides.
    async with websockets.connect(url, origin="http://127.0.0.1", max_size=None, compression="deflate") as ws:
        await ws.send(json.dumps({"type": "start", "consent": True}))
        item = {"id": None, "bytes": 0}
        session = asyncio.Event()

        async def receive():
            nonlocal received
            async for message in ws:
                if isinstance(message, bytes):
                    arrived = now_ns()
                    item["bytes"] += len(message)
                    streaming.set()
                    for offset in range(0, len(message), frame_bytes):  # one frame, or several joined
                        sent_ns = HEADER.unpack_from(message, offset)[0]
                        if window and window["start"] <= sent_ns < window["end"]:
                            received += 1
                            latencies.append(arrived - sent_ns)
                else:
                    event = json.loads(message)
                    if event["type"] == "audio.start":
                        item.update(id=event["item_id"], bytes=0)
                    elif event["type"] == "session":
                        session.set()

        async def receive_until_closed():
            try:
                await receive()
            except websockets.ConnectionClosed:
                pass

        receiver = asyncio.ensure_future(receive_until_closed())
        # As the call page: the microphone starts once the call exists (its `session` message).
        await asyncio.wait_for(session.wait(), 60)
        seq = 0
        next_at = time.monotonic()
        interrupted = committed = last_before_commit = None
        while not window or now_ns() < window["end"] + 1_700_000_000:
            data = frame(frame_ms, index, seq)
            if window and window["start"] <= HEADER.unpack_from(data)[0] < window["end"]:
                sent += 1
            await ws.send(data)
            seq += 1
            # Interrupts after the window, spread over a second (100 calls: a burst of 100 barge-ins a second).
            if interrupted is None and window and now_ns() >= window["end"] + 200_000_000 + index * window["spread"]:
                interrupted = now_ns()
                await ws.send(json.dumps({"type": "interrupt", "item_id": item["id"] or "none",
                                          "played_ms": item["bytes"] // BYTES_PER_MS}))
            elif committed is None and interrupted and now_ns() >= interrupted + 300_000_000:
                # The caller's turn ends (the page's VAD decided): every frame sent so far belongs to it.
                last_before_commit = seq - 1
                committed = now_ns()
                await ws.send('{"type":"commit"}')
            next_at += frame_ms / 1000
            await asyncio.sleep(max(0, next_at - time.monotonic()))
        await asyncio.sleep(0.5)  # frames in flight
        receiver.cancel()
    results.append({"caller": index, "sent_up": sent, "received_down": received, "down_ns": latencies,
                    "interrupt_ns": interrupted, "commit_ns": committed, "last_before_commit": last_before_commit})


async def warm_up(url):
    """One short call first: the server's first call imports and loads what every later call shares."""
    async with websockets.connect(url, origin="http://127.0.0.1", max_size=None) as ws:
        await ws.send(json.dumps({"type": "start", "consent": True}))
        async for message in ws:
            if isinstance(message, bytes):
                break


def proc_cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_process(args, env=None, ready_line=None, port=None):
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    if ready_line:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if ready_line in line:
                break
    while port and time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    # Drain its output from now on so a chatty server never blocks on a full pipe.
    import threading
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    return process


def server_env(upstream_port, db_path):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="ava.settings", OPENAI_API_KEY="bench-key",
        OPENAI_BASE_URL=f"http://127.0.0.1:{upstream_port}/v1", DATABASE_URL=f"sqlite:///{db_path}",
        REDIS_URL="", VOICE_MAX_CONCURRENT_CALLS_PER_IP="100000", VOICE_NEW_CALLS_PER_MINUTE_PER_IP="100000",
        VOICE_MAX_FRAME_BYTES="65536",
        ANALYTICS_SCORING_MAX_RETRIES="0", LOG_LEVEL="WARNING", VOICE_OUTBOUND_BUFFER_MS="60000",
        RECORDINGS_ENABLED="true" if RECORDINGS else "false",
        RECORDINGS_ROOT=str(Path(db_path).parent / "recordings"),
        RECORDINGS_SPOOL_DIR=str(Path(db_path).parent / "recordings-spool"),
    )
    return env


async def run_one(server, calls, frame_ms, seconds, db_path):
    upstream_port, server_port = free_port(), free_port()
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    upstream = start_process([PYTHON, __file__, "--serve-upstream", str(upstream_port), str(frame_ms), out],
                             ready_line="ready")
    env = server_env(upstream_port, db_path)
    if server == "daphne":
        args = [str(ROOT / ".venv/bin/daphne"), "-b", "127.0.0.1", "-p", str(server_port), "ava.asgi:application"]
        path = "/ws/voice/bench-{n:06d}"
    elif server == "uvicorn":
        args = [str(ROOT / ".venv/bin/uvicorn"), "ava.asgi:application", "--host", "127.0.0.1", "--port",
                str(server_port), "--log-level", "warning", "--ws", UVICORN_WS, "--loop", "uvloop",
                "--ws-max-size", "1048576", *UVICORN_OPTIONS]
        path = "/ws/voice/bench-{n:06d}"
    else:
        args = [PYTHON, __file__, "--serve-floor", str(server_port), f"ws://127.0.0.1:{upstream_port}/v1/realtime"]
        path = "/floor-{n:06d}"
    if os.environ.get("BENCH_SERVER_COMMAND") and server != "floor":  # e.g. a profiling wrapper
        args = os.environ["BENCH_SERVER_COMMAND"].format(port=server_port).split()
    server_process = start_process(args, env=env, port=server_port)
    if server != "floor":
        # Every caller carries the signed call token a call page would (one address: loopback).
        with urllib.request.urlopen(f"http://127.0.0.1:{server_port}/call/token/", timeout=10) as response:
            path += "?token=" + urllib.parse.quote(json.loads(response.read())["token"])
    try:
        await warm_up(f"ws://127.0.0.1:{server_port}{path.format(n=999999)}")
        await asyncio.sleep(0.5)
        rss_before = proc_rss_mb(server_process.pid)
        ramp = min(2.0, 0.02 * calls)
        window = {}
        results = []
        tasks = []
        streaming = []
        for n in range(calls):
            streaming.append(asyncio.Event())
            tasks.append(asyncio.ensure_future(caller(n, f"ws://127.0.0.1:{server_port}{path.format(n=n)}", frame_ms,
                                                      window, streaming[-1], results)))
            await asyncio.sleep(ramp / calls)
        # Measure once every call is set up and streaming (setting up is not relaying).
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in streaming)), 60)
        await asyncio.sleep(1.0)
        start = now_ns() + 100_000_000
        window.update(start=start, end=start + int(seconds * 1e9), spread=1_000_000_000 // calls)
        await asyncio.sleep(0.1)
        profiler = None
        if os.environ.get("BENCH_PY_SPY"):  # e.g. /path/to/py-spy: a sampled profile of the window
            profiler = subprocess.Popen(
                [os.environ["BENCH_PY_SPY"], "record", "--pid", str(server_process.pid), "--duration", str(int(seconds)),
                 "--rate", "200", "--format", "raw", "--nonblocking",
                 "--output", str(ROOT / "bench" / "results" / f"profile-{server}-{calls}-{frame_ms}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        cpu_start = proc_cpu_seconds(server_process.pid)
        harness_start = proc_cpu_seconds(upstream.pid), proc_cpu_seconds(os.getpid())
        await asyncio.sleep(seconds)
        cpu = (proc_cpu_seconds(server_process.pid) - cpu_start) / seconds
        upstream_cpu = (proc_cpu_seconds(upstream.pid) - harness_start[0]) / seconds
        generator_cpu = (proc_cpu_seconds(os.getpid()) - harness_start[1]) / seconds
        rss_during = proc_rss_mb(server_process.pid)
        await asyncio.gather(*tasks, return_exceptions=True)
        if profiler is not None:
            await asyncio.get_running_loop().run_in_executor(None, profiler.wait, 120)
    finally:
        for process, stop in ((server_process, signal.SIGTERM), (upstream, signal.SIGTERM)):
            process.send_signal(stop)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
    upstream_data = json.loads(Path(out).read_text())
    if os.environ.get("BENCH_KEEP"):  # the raw timings, to look at over time
        Path(out).rename(ROOT / "bench" / "results" / f"raw-{server}-{calls}-{frame_ms}.json")
        (ROOT / "bench" / "results" / f"raw-{server}-{calls}-{frame_ms}-callers.json").write_text(
            json.dumps({"window": window, "results": results}))
    else:
        os.unlink(out)

    start_ns, end_ns = window["start"], window["end"]
    up = [lat for sent_ns, _, lat in upstream_data["appends"] if start_ns <= sent_ns < end_ns]
    down = [lat for r in results for lat in r["down_ns"]]
    sent_up = sum(r["sent_up"] for r in results)
    sent_down = sum(1 for t in upstream_data["sent_down"] if start_ns <= t < end_ns)
    cancels = upstream_data["cancels"]
    delays = [cancels[str(r["caller"])] - r["interrupt_ns"] for r in results
              if r.get("interrupt_ns") and str(r["caller"]) in cancels]
    newest = [lat for sent_ns, lat in upstream_data["newest"] if start_ns <= sent_ns < end_ns]
    commits = upstream_data["commits"]
    turns = [(commits[str(r["caller"])][0] - r["commit_ns"], commits[str(r["caller"])][1] == r["last_before_commit"])
             for r in results if r.get("commit_ns") and str(r["caller"]) in commits]
    ms = lambda ns: None if ns is None else round(ns / 1e6, 2)  # noqa: E731
    return {
        "server": server, "calls": calls, "frame_ms": frame_ms, "seconds": seconds,
        "connected": len(results),
        "up_p50_ms": ms(percentile(up, 50)), "up_p99_ms": ms(percentile(up, 99)),
        "up_newest_p50_ms": ms(percentile(newest, 50)), "up_newest_p99_ms": ms(percentile(newest, 99)),
        "appends_per_frame": round(len(newest) / max(1, len(up)), 3),
        "down_p50_ms": ms(percentile(down, 50)), "down_p99_ms": ms(percentile(down, 99)),
        "up_lost": sent_up - len(up), "up_sent": sent_up, "down_lost": sent_down - len(down), "down_sent": sent_down,
        "cpu_cores": round(cpu, 3), "cpu_per_call_pct": round(100 * cpu / calls, 2),
        "upstream_cores": round(upstream_cpu, 3), "generator_cores": round(generator_cpu, 3),
        "rss_mb": round(rss_during, 1), "rss_per_call_mb": round((rss_during - rss_before) / calls, 3),
        "cancel_p50_ms": ms(percentile(delays, 50)), "cancel_p99_ms": ms(percentile(delays, 99)),
        "cancels": len(delays), "interrupts": sum(1 for r in results if r.get("interrupt_ns")),
        "commit_p50_ms": ms(percentile([t for t, _ in turns], 50)),
        "commit_p99_ms": ms(percentile([t for t, _ in turns], 99)),
        "commits_whole": sum(1 for _, whole in turns if whole), "commits": len(turns),
    }


def migrate(db_path):
    env = server_env(1, db_path)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


async def main(args):
    db_path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    migrate(db_path)
    rows = []
    for frame_ms in args.frame_ms:
        for calls in args.calls:
            for server in args.servers:
                row = await run_one(server, calls, frame_ms, args.seconds, db_path)
                rows.append(row)
                print(json.dumps(row), flush=True)
    print()
    print("| server | calls | frame | up p50/p99 ms | up newest p50/p99 ms | down p50/p99 ms | lost up/down | "
          "CPU/call | RSS/call MB | interrupt->cancel p50/p99 ms | commit p50/p99 ms (whole) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['server']} | {r['calls']} | {r['frame_ms']} ms | {r['up_p50_ms']} / {r['up_p99_ms']} | "
              f"{r['up_newest_p50_ms']} / {r['up_newest_p99_ms']} | "
              f"{r['down_p50_ms']} / {r['down_p99_ms']} | {r['up_lost']} / {r['down_lost']} | "
              f"{r['cpu_per_call_pct']}% | {r['rss_per_call_mb']} | {r['cancel_p50_ms']} / {r['cancel_p99_ms']} "
              f"({r['cancels']} of {r['interrupts']}) | {r['commit_p50_ms']} / {r['commit_p99_ms']} "
              f"({r['commits_whole']} of {r['commits']}) |")
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    path = results_dir / f"voice_relay-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(rows, indent=2))
    print(f"\nwritten to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    use_uvloop()
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-upstream":
        asyncio.run(serve_upstream(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--serve-floor":
        asyncio.run(serve_floor(int(sys.argv[2]), sys.argv[3]))
    else:
        parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--calls", type=int, nargs="+", default=[1, 25, 100])
        parser.add_argument("--servers", nargs="+", default=["floor", "daphne", "uvicorn"],
                            choices=["floor", "daphne", "uvicorn"])
        parser.add_argument("--frame-ms", type=int, nargs="+", default=[20, 40])
        parser.add_argument("--seconds", type=float, default=6.0, help="length of the measuring window")
        parser.add_argument("--no-recordings", action="store_true",
                            help="RECORDINGS_ENABLED=false: the relay's own cost, without the call recorder")
        parser.add_argument("--uvicorn-ws", default="websockets", choices=["websockets", "websockets-sansio", "wsproto"])
        parser.add_argument("--uvicorn-option", action="append", default=[],
                            help="passed to uvicorn as it is, e.g. --uvicorn-option=--ws-per-message-deflate=false")
        arguments = parser.parse_args()
        RECORDINGS = not arguments.no_recordings
        UVICORN_WS = arguments.uvicorn_ws
        UVICORN_OPTIONS = arguments.uvicorn_option
        asyncio.run(main(arguments))
