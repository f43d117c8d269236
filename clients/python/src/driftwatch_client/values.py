"""Python values to driftwatch's wire `Value`s, one rule per type.

| Python                                   | `Value`     |
| ---------------------------------------- | ----------- |
| `bool`, `numpy.bool_`                    | `flag`      |
| `int`, `float`, numpy numbers            | `number`    |
| `str`                                    | `category`  |
| `driftwatch_client.Text`                 | `text`      |
| `driftwatch_client.Embedding`            | `embedding` |
| `None`                                   | missing     |

A float NaN or infinity is sent as it is, and the daemon rejects that
record naming the field (its contract: leave a key out, or pass `None`, for
a missing value). Any other type raises `TypeError` naming the field, at
the `log` call, so that a programming mistake shows in development rather
than as silently dropped data.
"""
from __future__ import annotations

import datetime as _dt
import numbers
from typing import Any, Mapping, Optional

from ._proto import ingest_pb2 as pb


class Text(str):
    """Free text (a prompt, a reply): the daemon monitors it through its
    descriptors (length, words, non-ASCII and digit shares, emptiness)
    rather than as a category. A `str` in every other respect."""

    __slots__ = ()


class Embedding:
    """An embedding vector (of a prompt, a reply, an image): a sequence of
    numbers, a numpy array included. The daemon compares a column of them
    with the baseline's by centroid distance and MMD; its dimension must be
    the baseline's."""

    __slots__ = ("values",)

    def __init__(self, values: Any):
        self.values = [float(x) for x in values]


_EXACT_KINDS = {float: "number", int: "number", bool: "flag", str: "category", Text: "text"}


def _is_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    dtype = getattr(value, "dtype", None)
    return dtype is not None and getattr(dtype, "kind", None) == "b" and getattr(value, "ndim", 1) == 0


def fill_value(target: "pb.Value", field: str, value: Any) -> None:
    """Sets `target` (a `Value` inside a record's map) from `value`."""
    kind = _EXACT_KINDS.get(type(value))
    if kind is not None:  # the common types, without isinstance checks on ABCs
        setattr(target, kind, value)
    elif value is None:
        target.SetInParent()  # an explicit null: the key is present, no kind set
    elif _is_flag(value):
        target.flag = bool(value)
    elif isinstance(value, Embedding):
        target.embedding.values.extend(value.values)
    elif isinstance(value, Text):
        target.text = str(value)
    elif isinstance(value, str):
        target.category = value
    elif isinstance(value, numbers.Real):
        target.number = float(value)
    else:
        raise TypeError(
            f"{field}: a {type(value).__name__} is not a driftwatch value "
            "(use a number, bool, str, driftwatch_client.Text, driftwatch_client.Embedding or None)"
        )


def fill_values(target, section: str, values: Optional[Mapping[str, Any]]) -> None:
    """Fills the map `target` (`features`, `outputs` or `labels`) from
    `values`; fields are named `section.NAME` in errors."""
    for name, value in (values or {}).items():
        if not isinstance(name, str):
            raise TypeError(f"{section}: key {name!r} is not a str")
        fill_value(target[name], f"{section}.{name}", value)


def fill_metrics(target, metrics: Optional[Mapping[str, Any]]) -> None:
    """Fills a record's `metrics` map: plain numbers only."""
    for name, value in (metrics or {}).items():
        if not isinstance(name, str):
            raise TypeError(f"metrics: key {name!r} is not a str")
        if _is_flag(value) or not isinstance(value, numbers.Real):
            raise TypeError(f"metrics.{name}: a {type(value).__name__} is not a number")
        target[name] = float(value)


def fill_time(target: "pb.Timestamp", when: Any) -> None:
    """Sets a `Timestamp` from a `datetime` (naive means UTC) or from
    seconds since the Unix epoch."""
    if isinstance(when, _dt.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        when = when.timestamp()
    if _is_flag(when) or not isinstance(when, numbers.Real):
        raise TypeError(f"time: a {type(when).__name__} is not a datetime or epoch seconds")
    seconds = int(when // 1)
    target.seconds = seconds
    target.nanos = min(int(round((float(when) - seconds) * 1e9)), 999_999_999)


def record(
    features: Optional[Mapping[str, Any]] = None,
    outputs: Optional[Mapping[str, Any]] = None,
    metrics: Optional[Mapping[str, Any]] = None,
    id: Optional[str] = None,
    time: Any = None,
) -> "pb.Record":
    """One `Record`, converted now (so that a caller's later changes to
    its dicts do not change what is sent)."""
    r = pb.Record(id=_id(id))
    fill_values(r.features, "features", features)
    fill_values(r.outputs, "outputs", outputs)
    fill_metrics(r.metrics, metrics)
    if time is not None:
        fill_time(r.time, time)
    return r


def outcome(id: str, labels: Mapping[str, Any], time: Any = None) -> "pb.Outcome":
    """One `Outcome`: the delayed labels of the record with this `id`."""
    if not id:
        raise ValueError("id: an outcome needs the id of the record it labels")
    o = pb.Outcome(id=_id(id))
    fill_values(o.labels, "labels", labels)
    if time is not None:
        fill_time(o.time, time)
    return o


def _id(id: Optional[str]) -> str:
    if id is None:
        return ""
    if not isinstance(id, str):
        raise TypeError(f"id: a {type(id).__name__} is not a str")
    return id
