"""`Monitor`: what an inference service calls to send driftwatch a sample
of its traffic. `log` and `log_outcome` convert, sample and queue, and
return at once; a background thread (`batcher`) sends.
"""
from __future__ import annotations

import time as _clock
import weakref
from typing import Any, Iterable, Mapping, Optional

import grpc

from . import adapters, values
from ._proto import ingest_pb2 as pb
from ._proto import ingest_pb2_grpc
from .batcher import Batcher, Stats
from .sampling import RateSampler, Reservoir

DEFAULT_TARGET = "127.0.0.1:50051"


class Monitor:
    """Sends one model's records and outcomes to a driftwatch daemon.

    `target` is the daemon's gRPC address; `model` the model's name in its
    configuration. `sample_rate` (0–1) sends that share of records, decided
    by id when there is one; `reservoir=N` instead sends a uniform sample
    of N records per `flush_interval`. `token` is the bearer token the
    daemon may require. Records are batched (`batch_size`) and queued (at
    most `max_queue`; beyond that new ones are dropped and counted, never
    blocking). Use it as a context manager, or call `close()`, so that the
    last records are sent.
    """

    def __init__(self, target: str = DEFAULT_TARGET, model: Optional[str] = None,
                 sample_rate: float = 1.0, token: Optional[str] = None, *,
                 reservoir: Optional[int] = None, batch_size: int = 500,
                 flush_interval: float = 1.0, max_queue: int = 10_000,
                 timeout: float = 10.0, retries: int = 3, secure: bool = False,
                 seed: Optional[int] = None):
        if not model:
            raise ValueError("model: the name of the model in driftwatch's configuration is required")
        if batch_size < 1 or max_queue < 1:
            raise ValueError("batch_size and max_queue must be at least 1")
        if flush_interval <= 0 or timeout <= 0:
            raise ValueError("flush_interval and timeout must be positive seconds")
        self.model = model
        self._sampler = RateSampler(sample_rate, seed)
        self._reservoir = None if reservoir is None else Reservoir(reservoir, seed)
        self._channel = (grpc.secure_channel(target, grpc.ssl_channel_credentials()) if secure
                         else grpc.insecure_channel(target))
        stub = ingest_pb2_grpc.IngestStub(self._channel)
        metadata = (("authorization", f"Bearer {token}"),) if token else None

        def send_records(records):
            request = pb.SendRequest(model=model, records=records)
            return stub.Send(request, timeout=timeout, metadata=metadata)

        def send_outcomes(outcomes):
            request = pb.SendOutcomesRequest(model=model, outcomes=outcomes)
            return stub.SendOutcomes(request, timeout=timeout, metadata=metadata)

        self._batcher = Batcher(
            send_records=send_records, send_outcomes=send_outcomes, model=model,
            batch_size=batch_size, flush_interval=flush_interval, max_queue=max_queue,
            retries=retries, refill=None if self._reservoir is None else self._reservoir.take,
        )
        self._closer = weakref.finalize(self, _close_at_exit, self._batcher, self._channel)

    def log(self, features: Optional[Mapping[str, Any]] = None,
            outputs: Optional[Mapping[str, Any]] = None,
            metrics: Optional[Mapping[str, float]] = None,
            id: Optional[str] = None, time: Any = None) -> bool:
        """Logs one inference: its inputs (`features`), its outputs, its
        measurements (`metrics`: latency_ms, tokens_out, …) and its request
        `id` (needed to join a later `log_outcome`). `time` is when it was
        made (a datetime or epoch seconds; default now). True when the
        record is queued to be sent; False when sampled out or dropped.
        Raises `TypeError` for a value of no driftwatch kind (checked on
        the records that sampling keeps)."""
        self._batcher.count(logged=1)
        if self._reservoir is None and not self._sampler.keep(id):
            # Decided before converting, so a sampled-out record costs the
            # caller a hash, not a conversion.
            self._batcher.count(sampled_out=1)
            return False
        record = values.record(features, outputs, metrics, id, time if time is not None else _now())
        if self._reservoir is not None:
            self._batcher.check_open()
            return self._reservoir.offer(record)
        return self._batcher.add_record(record)

    def log_outcome(self, id: str, labels: Mapping[str, Any], time: Any = None) -> bool:
        """Logs the delayed ground truth of the record logged with `id`
        (`labels={"label": 1}`, a rating, a reference answer). Not sent
        when rate sampling left that id out."""
        outcome = values.outcome(id, labels, time if time is not None else _now())
        self._batcher.count(outcomes_logged=1)
        if self._reservoir is None and not self._sampler.keep(id):
            self._batcher.count(outcomes_sampled_out=1)
            return False
        return self._batcher.add_outcome(outcome)

    def log_row(self, row: Any, *, outputs: Iterable[str] = (), metrics: Iterable[str] = (),
                texts: Iterable[str] = (), id: Optional[str] = None, time: Any = None) -> bool:
        """Logs a pandas row (a `Series`, a `namedtuple` from `itertuples`,
        or a dict): columns named in `outputs` and `metrics` go there, the
        rest are features; `texts` columns are free text. NaN, NaT and
        `pd.NA` are missing values."""
        features, outs, mets = adapters.split_row(row, outputs, metrics, texts)
        return self.log(features, outs, mets, id=id, time=time)

    def log_frame(self, frame: Any, *, outputs: Iterable[str] = (), metrics: Iterable[str] = (),
                  texts: Iterable[str] = (), id_column: Optional[str] = None) -> int:
        """Logs every row of a pandas DataFrame (see `log_row`); the ids,
        if any, come from `id_column`. Returns how many were queued."""
        outputs, metrics, texts = list(outputs), list(metrics), list(texts)
        queued = 0
        for row in adapters.rows(frame):
            id = None if id_column is None else adapters.row_id(row, id_column)
            queued += self.log_row({k: v for k, v in row.items() if k != id_column}, outputs=outputs,
                                   metrics=metrics, texts=texts, id=id)
        return queued

    def log_chat(self, request: Any, response: Any, *, latency_ms: Optional[float] = None,
                 features: Optional[Mapping[str, Any]] = None, prompt: str = "prompt",
                 reply: str = "reply") -> bool:
        """Logs one OpenAI-style chat completion: the last user message as
        the `prompt` text feature, the first choice's content as the
        `reply` text output, `usage` as `tokens_in`/`tokens_out` metrics
        (plus `latency_ms` when given) and the response's `id`. `request`
        and `response` are dicts or the OpenAI SDK's objects."""
        exchange = adapters.chat_exchange(request, response)
        feats = {prompt: values.Text(exchange.prompt), **(features or {})}
        metrics = dict(exchange.usage)
        if latency_ms is not None:
            metrics["latency_ms"] = latency_ms
        return self.log(feats, {reply: values.Text(exchange.reply)}, metrics, id=exchange.id)

    @property
    def stats(self) -> Stats:
        """What became of everything logged so far."""
        return self._batcher.stats()

    def flush(self, timeout: Optional[float] = 30.0) -> bool:
        """Sends everything logged so far now and waits until the daemon
        answered for it; True when all of it was handled in `timeout`."""
        return self._batcher.flush(timeout)

    def close(self, timeout: Optional[float] = 30.0) -> bool:
        """Flushes, stops the sending thread and closes the channel.
        Idempotent; logging after it raises RuntimeError."""
        try:
            return self._batcher.close(timeout)
        finally:
            self._channel.close()
            self._closer.detach()

    def __enter__(self) -> "Monitor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _close_at_exit(batcher: Batcher, channel: grpc.Channel) -> None:
    """At interpreter exit (or when a Monitor is garbage collected without
    `close`), sends what is queued, waiting at most 5 s."""
    batcher.close(5.0)
    channel.close()


def _now() -> float:
    return _clock.time()
