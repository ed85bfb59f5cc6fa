"""Persistence off the relay loop: one writer task per call runs the database writes in order.

The relay only queues a write (no await on the database); the writer runs each
synchronous function through `database_sync_to_async`, one at a time, so a
message is created before it is revised and the call is closed last. A write
that fails is logged and the call goes on; a crash loses at most what is queued.
"""

import asyncio
import logging

from channels.db import database_sync_to_async

log = logging.getLogger(__name__)
_STOP = object()


class PersistenceWriter:
    def __init__(self):
        self._queue = asyncio.Queue()
        self._task = None
        self.failures = 0

    def start(self):
        self._task = asyncio.ensure_future(self._run())

    def put(self, function, /, **kwargs):
        self._queue.put_nowait((function, kwargs))

    async def _run(self):
        while True:
            job = await self._queue.get()
            if job is _STOP:
                return
            function, kwargs = job
            try:
                await database_sync_to_async(function)(**kwargs)
            except Exception:
                self.failures += 1
                log.exception("Voice call write %s failed", getattr(function, "__name__", function))

    async def close(self, *, timeout=10.0):
        """Run everything queued, then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(_STOP)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except asyncio.TimeoutError:
            log.error("Voice call writes did not finish in %ss; %s left", timeout, self._queue.qsize())
            self._task.cancel()
