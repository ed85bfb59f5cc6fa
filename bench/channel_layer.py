"""Channel layer benchmark: how long a live update takes from one process to another.

    .venv/bin/python bench/channel_layer.py                          # the embedded SQLite layer, polls of 50 and 100 ms
    .venv/bin/python bench/channel_layer.py --poll 0.02 0.05 --messages 400
    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/channel_layer.py --redis   # channels-redis, to compare

Two processes, as under `make run`: a "web" one holding a group member (a dashboard socket's channel,
receiving in a loop on its event loop) and a "worker" one publishing to the group from synchronous code
through async_to_sync, as communications.live.send_now does inside a Celery task. Each message carries its
send time (CLOCK_MONOTONIC, shared by the processes); the web records when it arrives. Sends are spaced
by a random 20-80 ms so they do not lock onto the polling phase. Also measured: the worker's time in
group_send, and the web's CPU while idle (the polling's standing cost), as a share of one core.

Results are printed and written to bench/results/channel_layer-<time>.json; bench/README.md ("Channel
layer") records the figures.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUP = "bench"


def setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ava.settings")
    import django

    django.setup()
    from channels.layers import get_channel_layer

    return get_channel_layer()


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def web(count, idle_seconds):
    """Join the group, report ready, then receive `count` messages; print the latencies (ms) and idle CPU."""
    import asyncio

    layer = setup_django()

    async def run():
        channel = await layer.new_channel("websocket.")
        await layer.group_add(GROUP, channel)
        # Start the receive (and with it the layer's poller), then measure the idle cost before any send.
        first = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(1)
        started, cpu = time.monotonic(), cpu_seconds()
        await asyncio.sleep(idle_seconds)
        idle_share = (cpu_seconds() - cpu) / (time.monotonic() - started)
        print("ready", flush=True)
        latencies = []
        message = await first
        while True:
            latencies.append((time.monotonic_ns() - message["sent_ns"]) / 1e6)
            if message["n"] == count - 1:
                break
            message = await layer.receive(channel)
        await layer.group_discard(GROUP, channel)
        print(json.dumps({"latencies_ms": latencies, "idle_cpu_share": idle_share}), flush=True)

    asyncio.run(run())


def worker(count):
    """Publish `count` messages to the group from sync code, as a Celery task does; print group_send times (ms)."""
    from asgiref.sync import async_to_sync

    layer = setup_django()
    calls = []
    for n in range(count):
        time.sleep(random.uniform(0.02, 0.08))
        started = time.monotonic_ns()
        async_to_sync(layer.group_send)(GROUP, {"type": "live.update", "n": n, "sent_ns": time.monotonic_ns(),
                                                "event": "message", "html": "x" * 300})
        calls.append((time.monotonic_ns() - started) / 1e6)
    print(json.dumps({"group_send_ms": calls}), flush=True)


def percentiles(values):
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return {"p50": round(statistics.median(ordered), 1), "p95": round(pick(0.95), 1), "p99": round(pick(0.99), 1),
            "max": round(ordered[-1], 1)}


def run_case(env, count, idle_seconds):
    me = [sys.executable, __file__]
    receiver = subprocess.Popen(me + ["--role", "web", "--messages", str(count), "--idle", str(idle_seconds)],
                                env=env, stdout=subprocess.PIPE, text=True)
    assert receiver.stdout.readline().strip() == "ready"
    sender = subprocess.run(me + ["--role", "worker", "--messages", str(count)], env=env, capture_output=True,
                            text=True, check=True, timeout=600)
    out, _ = receiver.communicate(timeout=60)
    received = json.loads(out.strip().splitlines()[-1])
    sent = json.loads(sender.stdout.strip().splitlines()[-1])
    return {"arrival": percentiles(received["latencies_ms"]), "received": len(received["latencies_ms"]),
            "group_send": percentiles(sent["group_send_ms"]), "idle_cpu_share": round(received["idle_cpu_share"], 4)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["web", "worker"])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle polling to measure the CPU of")
    parser.add_argument("--poll", type=float, nargs="+", default=[0.05, 0.1])
    parser.add_argument("--redis", action="store_true", help="channels-redis on REDIS_URL instead")
    args = parser.parse_args()
    if args.role == "web":
        return web(args.messages, args.idle)
    if args.role == "worker":
        return worker(args.messages)

    base = {k: v for k, v in os.environ.items() if k not in ("EMBEDDED_CHANNEL_LAYER", "CHANNEL_LAYER_DB")}
    base.setdefault("LOG_LEVEL", "WARNING")
    cases = []
    if args.redis:
        assert base.get("REDIS_URL"), "--redis needs REDIS_URL"
        cases.append(("channels-redis", base))
    else:
        base.pop("REDIS_URL", None)
        folder = Path(tempfile.mkdtemp())
        for poll in args.poll:
            layer_db = folder / f"channels-{poll}.sqlite3"
            env = dict(base, CHANNEL_LAYER_DB=str(layer_db), CHANNEL_LAYER_POLL_SECONDS=str(poll),
                       DATABASE_URL=f"sqlite:///{folder / 'ava.sqlite3'}")
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                           check=True)
            cases.append((f"channels-lite, poll {int(poll * 1000)} ms", env))
    results = []
    for name, env in cases:
        result = {"layer": name, "messages": args.messages, **run_case(env, args.messages, args.idle)}
        print(json.dumps(result), flush=True)
        results.append(result)
    out = ROOT / "bench" / "results" / f"channel_layer-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
