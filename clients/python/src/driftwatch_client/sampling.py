"""Which records are sent: a share of them (`sample_rate`), or a uniform
sample of fixed size per flush interval (`reservoir`).

Rate sampling is decided by the record's id when it has one: a hash of the
id against the rate, as OpenTelemetry's `TraceIdRatioBased` sampler does.
The same id therefore gets the same answer in `log` and in `log_outcome`, so
a sampled-out record's label is not sent either (the daemon could not join
it). Records without an id are sampled at random.
"""
from __future__ import annotations

import hashlib
import random
import threading
from typing import Generic, List, Optional, TypeVar

T = TypeVar("T")

_SPAN = float(1 << 64)


class RateSampler:
    """Keeps a share `rate` (0–1) of the records."""

    def __init__(self, rate: float, seed: Optional[int] = None):
        if not (0.0 <= rate <= 1.0):
            raise ValueError(f"sample_rate: {rate!r} is not in [0, 1]")
        self.rate = float(rate)
        self._random = random.Random(seed)

    def keep(self, id: Optional[str]) -> bool:
        """Whether the record with this id (or none) is sent."""
        if self.rate >= 1.0:
            return True
        if self.rate <= 0.0:
            return False
        if id:
            digest = hashlib.blake2b(id.encode(), digest_size=8).digest()
            return int.from_bytes(digest, "big") / _SPAN < self.rate
        return self._random.random() < self.rate


class Reservoir(Generic[T]):
    """A uniform sample of at most `size` items out of all offered since
    the last `take` (Vitter's algorithm R). Thread-safe."""

    def __init__(self, size: int, seed: Optional[int] = None):
        if size < 1:
            raise ValueError(f"reservoir: {size!r} is not a size of at least 1")
        self.size = size
        self._items: List[T] = []
        self._seen = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def offer(self, item: T) -> bool:
        """Offers one item; False when it was not kept (now). An item kept
        now may still be replaced by a later one."""
        with self._lock:
            self._seen += 1
            if len(self._items) < self.size:
                self._items.append(item)
                return True
            slot = self._random.randrange(self._seen)
            if slot < self.size:
                self._items[slot] = item
                return True
            return False

    def take(self) -> tuple:
        """The sample so far and how many items it was drawn from; starts
        a new sample."""
        with self._lock:
            items, seen = self._items, self._seen
            self._items, self._seen = [], 0
            return items, seen
