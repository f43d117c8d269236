"""Helpers that turn other libraries' shapes into `Monitor.log` arguments:
pandas rows, and OpenAI-style chat request/response pairs. pandas and the
OpenAI SDK are not dependencies: rows are read through their mapping
interface, and chat objects through attributes or dict keys alike.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, Iterable, Iterator, Mapping, Optional, Tuple

from .values import Text


def is_missing(value: Any) -> bool:
    """NaN, NaT, None and pandas' NA: what pandas means by a missing value."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    kind = type(value).__name__
    if kind in ("NAType", "NaTType"):
        return True
    try:
        return bool(value != value)  # numpy NaN scalars
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """numpy and pandas scalars as the Python value they hold."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:
        return item()
    return value


def _as_mapping(row: Any) -> Mapping[str, Any]:
    if isinstance(row, Mapping):
        return row
    if hasattr(row, "_asdict"):  # DataFrame.itertuples()
        return row._asdict()
    if hasattr(row, "to_dict"):  # Series
        return row.to_dict()
    raise TypeError(f"row: a {type(row).__name__} is not a mapping, pandas Series or namedtuple")


def split_row(row: Any, outputs: Iterable[str], metrics: Iterable[str],
              texts: Iterable[str]) -> Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]]:
    """`(features, outputs, metrics)` of one row; missing values left out."""
    outputs, metrics, texts = set(outputs), set(metrics), set(texts)
    parts: Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]] = ({}, {}, {})
    for name, value in _as_mapping(row).items():
        if name == "Index" or is_missing(value):
            continue
        value = _plain(value)
        if name in texts:
            value = Text(value)
        part = 2 if name in metrics else 1 if name in outputs else 0
        parts[part][str(name)] = value
    return parts


def rows(frame: Any) -> Iterator[Mapping[str, Any]]:
    """The rows of a DataFrame, each as a dict."""
    if not hasattr(frame, "to_dict"):
        raise TypeError(f"frame: a {type(frame).__name__} is not a pandas DataFrame")
    return iter(frame.to_dict(orient="records"))


def row_id(row: Mapping[str, Any], column: str) -> Optional[str]:
    """The id in `column` of a row, as text (None when missing)."""
    if column not in row:
        raise KeyError(f"id_column: the frame has no column {column!r}")
    value = row[column]
    return None if is_missing(value) else str(_plain(value))


@dataclasses.dataclass
class ChatExchange:
    """What driftwatch monitors of one chat completion."""

    prompt: str
    reply: str
    usage: Dict[str, float]
    id: Optional[str]


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _content(message: Any) -> str:
    """A message's text; multi-part content (text parts) joined by spaces."""
    content = _get(message, "content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return " ".join(_get(part, "text") or "" for part in content if _get(part, "type") == "text")


def chat_exchange(request: Any, response: Any) -> ChatExchange:
    """The last user message of `request["messages"]`, the first choice of
    `response`, its `usage` and `id`."""
    messages = _get(request, "messages") or []
    users = [m for m in messages if _get(m, "role") == "user"]
    if not users:
        raise ValueError("request.messages: no message with role 'user'")
    choices = _get(response, "choices") or []
    if not choices:
        raise ValueError("response.choices: empty, no reply to monitor")
    usage = _get(response, "usage")
    tokens = {}
    if usage is not None:
        for source, name in (("prompt_tokens", "tokens_in"), ("completion_tokens", "tokens_out")):
            if _get(usage, source) is not None:
                tokens[name] = float(_get(usage, source))
    return ChatExchange(
        prompt=_content(users[-1]),
        reply=_content(_get(choices[0], "message")),
        usage=tokens,
        id=_get(response, "id"),
    )
