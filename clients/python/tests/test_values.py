"""Python values become the wire `Value`s the daemon's contract defines."""
import datetime as dt
import math
import subprocess
import sys

import numpy as np
import pytest

from driftwatch_client import Embedding, Text, values
from driftwatch_client.sampling import RateSampler, Reservoir
from conftest import REPO


def kinds(record, section="features"):
    return {k: v.WhichOneof("kind") for k, v in getattr(record, section).items()}


def test_each_python_type_has_its_kind():
    r = values.record(
        features={"b": True, "nb": np.bool_(False), "i": 3, "ni": np.int64(4), "f": 0.5,
                  "nf": np.float32(1.5), "s": "car", "t": Text("a reply"), "none": None},
        outputs={"score": 0.7},
    )
    assert kinds(r) == {"b": "flag", "nb": "flag", "i": "number", "ni": "number", "f": "number",
                        "nf": "number", "s": "category", "t": "text", "none": None}
    assert "none" in r.features  # an explicit null, not an absent key
    assert r.features["nb"].flag is False and r.features["ni"].number == 4.0
    assert r.outputs["score"].number == 0.7


def test_an_embedding_is_a_vector_of_floats():
    r = values.record(features={"e": Embedding(np.array([0.5, -1.0, 2.0], dtype=np.float32))})
    assert kinds(r) == {"e": "embedding"}
    assert list(r.features["e"].embedding.values) == [0.5, -1.0, 2.0]


def test_a_value_of_no_kind_names_its_field():
    with pytest.raises(TypeError, match=r"features\.tags: a list is not a driftwatch value"):
        values.record(features={"tags": ["a"]})
    with pytest.raises(TypeError, match=r"metrics\.ok: a bool is not a number"):
        values.record(metrics={"ok": True})
    with pytest.raises(TypeError, match=r"metrics\.model: a str is not a number"):
        values.record(metrics={"model": "v2"})
    with pytest.raises(TypeError, match="id: a int is not a str"):
        values.record(id=7)


def test_nan_is_sent_for_the_daemon_to_reject():
    # The contract: NaN rejects the record, naming the field (tested
    # against the daemon in test_monitor.py); the client does not hide it.
    assert math.isnan(values.record(features={"age": float("nan")}).features["age"].number)


def test_times_are_utc_timestamps():
    r = values.record(time=dt.datetime(2026, 11, 29, 12, 0, 0, 250000))
    assert (r.time.seconds, r.time.nanos) == (1795953600, 250_000_000)
    aware = dt.datetime(2026, 11, 29, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert values.record(time=aware).time.seconds == 1795953600
    assert values.record(time=1.999_999_999_9).time.nanos == 999_999_999
    with pytest.raises(TypeError, match="time: a str"):
        values.record(time="now")


def test_an_outcome_needs_an_id():
    o = values.outcome("req-1", {"label": 1, "rating": "up"})
    assert o.id == "req-1" and kinds(o, "labels") == {"label": "number", "rating": "category"}
    with pytest.raises(ValueError, match="id: an outcome needs"):
        values.outcome("", {"label": 1})


def test_rate_sampling_by_id_is_consistent_and_close_to_the_rate():
    sampler = RateSampler(0.3)
    ids = [f"req-{i}" for i in range(20_000)]
    kept = [sampler.keep(i) for i in ids]
    assert kept == [RateSampler(0.3).keep(i) for i in ids]  # same id, same answer
    assert abs(sum(kept) / len(ids) - 0.3) < 0.015  # 4.6 binomial sigmas
    assert all(RateSampler(1.0).keep(i) for i in ids[:100])
    assert not any(RateSampler(0.0).keep(i) for i in ids[:100])
    with pytest.raises(ValueError, match="sample_rate"):
        RateSampler(1.5)


def test_a_reservoir_is_a_bounded_uniform_sample():
    counts = np.zeros(100)
    for seed in range(300):
        reservoir = Reservoir(10, seed)
        for i in range(100):
            reservoir.offer(i)
        items, seen = reservoir.take()
        assert len(items) == 10 and seen == 100
        counts[items] += 1
    # Each of 100 items is kept with probability 0.1: 30 times in 300 runs.
    assert counts.min() > 10 and counts.max() < 55
    assert Reservoir(10).take() == ([], 0)


def test_the_committed_stubs_match_the_proto():
    generate = REPO / "clients" / "python" / "generate.py"
    result = subprocess.run([sys.executable, str(generate), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
