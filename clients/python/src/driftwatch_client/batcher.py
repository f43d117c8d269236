"""The background half of a `Monitor`: bounded queues of records and
outcomes, and one thread that sends them in batches over gRPC.

The inference path only appends to a queue under a lock; it never waits on
the network. When a queue is full the new item is dropped and counted
(`Stats.dropped`), never blocking the caller. The thread sends a batch when
`batch_size` items wait, every `flush_interval` seconds otherwise, and at
once on `flush()` and `close()`; a batch holds at most 4 MiB. A batch that fails with a transient status
(UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, ABORTED) is retried
with exponential backoff; any other failure, or the last retry, counts its
items as failed and logs why.
"""
from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
from typing import Callable, Deque, List, Optional, Tuple

import grpc

from ._proto import ingest_pb2 as pb

log = logging.getLogger("driftwatch_client")

WARN_EVERY = 60.0  # seconds between two warnings about failed deliveries
# A batch's encoded size: well under the daemon's 16 MiB message limit, so
# long texts make smaller batches rather than a refused one.
MAX_BATCH_BYTES = 4 << 20

TRANSIENT = frozenset({
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.ABORTED,
})


@dataclasses.dataclass
class Stats:
    """What became of everything logged, since the monitor started."""

    logged: int = 0          # records passed to `log`
    sampled_out: int = 0     # not sent, by sampling
    dropped: int = 0         # not sent: the queue was full
    accepted: int = 0        # taken by the daemon
    rejected: int = 0        # refused by the daemon's validation (see `last_rejections`)
    failed: int = 0          # not delivered: the call failed (see `last_error`)
    outcomes_logged: int = 0
    outcomes_sampled_out: int = 0
    outcomes_dropped: int = 0
    outcomes_sent: int = 0
    outcomes_rejected: int = 0
    outcomes_failed: int = 0
    queued: int = 0          # records and outcomes waiting to be sent now
    last_error: Optional[str] = None
    last_rejections: List[str] = dataclasses.field(default_factory=list)


class _Queue:
    """One bounded FIFO with the counters `flush` waits on."""

    def __init__(self, capacity: int):
        self.items: Deque = collections.deque()
        self.capacity = capacity
        self.enqueued = 0
        self.handled = 0

    def put(self, item) -> bool:
        if len(self.items) >= self.capacity:
            return False
        self.items.append(item)
        self.enqueued += 1
        return True

    def take(self, n: int, max_bytes: int = MAX_BATCH_BYTES) -> list:
        """Up to `n` items, oldest first, of at most `max_bytes` encoded
        (always at least one)."""
        batch, size = [], 0
        while self.items and len(batch) < n:
            size += self.items[0].ByteSize()
            if batch and size > max_bytes:
                break
            batch.append(self.items.popleft())
        return batch


class Batcher:
    """Queues and the sending thread of one model."""

    def __init__(self, *, send_records: Callable, send_outcomes: Callable, model: str,
                 batch_size: int, flush_interval: float, max_queue: int,
                 retries: int, refill: Optional[Callable[[], Tuple[list, int]]] = None):
        self._send_records = send_records
        self._send_outcomes = send_outcomes
        self._model = model
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._retries = retries
        self._refill = refill
        self._records = _Queue(max_queue)
        self._outcomes = _Queue(max_queue)
        self._stats = Stats()
        self._cond = threading.Condition()
        self._urgent = False
        self._stopping = False
        self._abandon = False
        self._warned_at = -WARN_EVERY
        self._unwarned = 0
        self._thread = threading.Thread(target=self._run, name=f"driftwatch-{model}", daemon=True)
        self._thread.start()

    # -- the inference path ------------------------------------------------

    def add_record(self, record: "pb.Record") -> bool:
        """Queues one record; False (and counted) when the queue is full."""
        with self._cond:
            return self._add(self._records, record, "dropped")

    def add_outcome(self, outcome: "pb.Outcome") -> bool:
        """Queues one outcome; False (and counted) when the queue is full."""
        with self._cond:
            return self._add(self._outcomes, outcome, "outcomes_dropped")

    def check_open(self) -> None:
        """Raises RuntimeError once closing began."""
        if self._stopping:
            raise RuntimeError("this driftwatch Monitor is closed")

    def _add(self, queue: _Queue, item, dropped: str) -> bool:
        self.check_open()
        if not queue.put(item):
            setattr(self._stats, dropped, getattr(self._stats, dropped) + 1)
            return False
        if len(queue.items) >= self._batch_size:
            self._cond.notify_all()
        return True

    def count(self, **increments: int) -> None:
        """Adds to counters of `Stats`."""
        with self._cond:
            for name, n in increments.items():
                setattr(self._stats, name, getattr(self._stats, name) + n)

    def stats(self) -> Stats:
        """A snapshot of the counters."""
        with self._cond:
            snapshot = dataclasses.replace(self._stats, last_rejections=list(self._stats.last_rejections))
            snapshot.queued = len(self._records.items) + len(self._outcomes.items)
            return snapshot

    # -- flush and close ---------------------------------------------------

    def flush(self, timeout: Optional[float]) -> bool:
        """Sends everything queued (and the reservoir's sample) now; True
        when all of it was handled (accepted, rejected or failed) in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._take_reservoir()
            targets = (self._records.enqueued, self._outcomes.enqueued)
            self._urgent = True
            self._cond.notify_all()
            while self._records.handled < targets[0] or self._outcomes.handled < targets[1]:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self, timeout: Optional[float]) -> bool:
        """Flushes, then stops the thread; what is still unsent after
        `timeout` seconds is counted as failed. True when all was handled."""
        with self._cond:
            if self._stopping:
                return not self._thread.is_alive()
        flushed = self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._abandon = not flushed
            self._cond.notify_all()
        self._thread.join(None if flushed else 5.0)
        return flushed

    # -- the sending thread --------------------------------------------------

    def _take_reservoir(self) -> None:
        if self._refill is None:
            return
        items, seen = self._refill()
        self._stats.sampled_out += seen - len(items)
        for item in items:
            self._add_unchecked(item)

    def _add_unchecked(self, item) -> None:
        if not self._records.put(item):
            self._stats.dropped += 1

    def _run(self) -> None:
        next_tick = time.monotonic() + self._flush_interval
        while True:
            with self._cond:
                while not self._due(next_tick):
                    self._cond.wait(max(0.0, next_tick - time.monotonic()))
                if time.monotonic() >= next_tick:
                    self._take_reservoir()
                    next_tick = time.monotonic() + self._flush_interval
                records = self._records.take(self._batch_size)
                outcomes = self._outcomes.take(self._batch_size)
                if not self._records.items and not self._outcomes.items:
                    self._urgent = False
                finished = self._stopping and not records and not outcomes
            if finished:
                return
            if records:
                self._deliver(records, self._records, self._send_records, self._took_records, "failed")
            if outcomes:
                self._deliver(outcomes, self._outcomes, self._send_outcomes, self._took_outcomes,
                              "outcomes_failed")

    def _due(self, next_tick: float) -> bool:
        waiting = len(self._records.items) + len(self._outcomes.items)
        full = max(len(self._records.items), len(self._outcomes.items)) >= self._batch_size
        return (full or self._stopping or (self._urgent and waiting > 0)
                or time.monotonic() >= next_tick)

    def _deliver(self, batch: list, queue: _Queue, send: Callable, took: Callable, failed: str):
        reply, error = self._call_with_retries(send, batch)
        with self._cond:
            if error is None:
                took(reply)
            else:
                setattr(self._stats, failed, getattr(self._stats, failed) + len(batch))
                self._stats.last_error = error
            queue.handled += len(batch)
            self._cond.notify_all()
        if error is not None:
            self._warn(len(batch), error)

    def _warn(self, items: int, error: str) -> None:
        """Logs a failed delivery: the first at once, then at most one line
        per `WARN_EVERY` seconds with what was not logged meanwhile, so a
        daemon outage does not flood the application's log."""
        now = time.monotonic()
        self._unwarned += items
        if now - self._warned_at < WARN_EVERY:
            return
        log.warning("driftwatch: %d items for model %r not delivered (since the last warning): %s",
                    self._unwarned, self._model, error)
        self._warned_at, self._unwarned = now, 0

    def _call_with_retries(self, send: Callable, batch: list):
        """`(reply, None)` when the batch was delivered, else `(None, why)`."""
        delay = 0.1
        for attempt in range(self._retries + 1):
            try:
                return send(batch), None
            except grpc.RpcError as e:
                why = f"{e.code().name}: {e.details()}"
                if e.code() not in TRANSIENT or attempt == self._retries or self._abandon:
                    return None, why
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable: the last attempt returns")

    def _took_records(self, reply) -> None:
        self._stats.accepted += reply.accepted
        self._stats.rejected += reply.rejected
        if reply.rejections:
            self._stats.last_rejections = [f"record {r.record} {r.field}: {r.reason}" for r in reply.rejections[:10]]
            log.debug("driftwatch: %d records rejected, first: %s", reply.rejected, self._stats.last_rejections[0])

    def _took_outcomes(self, reply) -> None:
        self._stats.outcomes_sent += reply.accepted
        self._stats.outcomes_rejected += reply.rejected
