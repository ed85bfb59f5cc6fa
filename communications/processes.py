"""Which server process holds a live call, and whether that process is gone.

A voice call is held by the process whose websocket carries it; `this_process()` is stamped on
the conversation when it opens. A process killed mid-call leaves it active; the closer asks
`holder_is_gone()` so it ends those at once, and leaves alone calls whose process still runs.
Only processes on this host can be checked (by pid and start time, so a reused pid is not taken
for the old process); a call held on another host waits for the idle rule instead.
"""

import os
import socket

import psutil


def this_process():
    """The stamp of the current process: host, pid and start time (a plain, JSON-safe dict)."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": round(psutil.Process().create_time(), 2)}


def holder_is_gone(stamp):
    """True when the stamped process ran on this host and no longer does; False when alive or unknowable."""
    if not isinstance(stamp, dict) or stamp.get("host") != socket.gethostname():
        return False
    try:
        pid, started = int(stamp["pid"]), float(stamp["started"])
        return abs(psutil.Process(pid).create_time() - started) > 1
    except (KeyError, TypeError, ValueError):
        return False
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # e.g. access denied: it exists
        return False
