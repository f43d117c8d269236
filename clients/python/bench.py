#!/usr/bin/env python3
"""What `Monitor.log` costs the inference path, per record, against two
baselines measured in the same run: building the same protobuf `Record` by
hand (the least any gRPC client does) and `json.dumps` of the record's
dicts (what logging a request line costs). Needs a daemon monitoring the
bundled loans model:

    driftwatch serve &            # the embedded default config: the loans model
    python clients/python/bench.py --target 127.0.0.1:50051 --records 50000

Prints the median of 5 runs of each, in microseconds per record, and the
ratios. The sending thread runs meanwhile (it shares the GIL), so the
figure for `log` includes its effect on the caller.
"""
import argparse
import json
import statistics
import time

from driftwatch_client import Monitor, Text
from driftwatch_client._proto import ingest_pb2 as pb

FEATURES = {"age": 41, "income": 52000.0, "loan_amount": 12000.0, "term": 36, "purpose": "car",
            "region": "Chicago", "income_band": "40K - 60K €", "notes": Text("customer has a stable income")}
OUTPUTS = {"score": 0.73, "approved": 1}
METRICS = {"latency_ms": 12.5}


def by_hand(i):
    r = pb.Record(id=f"req-{i}")
    for k, v in FEATURES.items():
        if isinstance(v, Text):
            r.features[k].text = v
        elif isinstance(v, str):
            r.features[k].category = v
        else:
            r.features[k].number = v
    for k, v in OUTPUTS.items():
        r.outputs[k].number = v
    r.metrics.update(METRICS)
    r.time.GetCurrentTime()
    return r


def per_record(run, n):
    started = time.perf_counter()
    for i in range(n):
        run(i)
    return (time.perf_counter() - started) / n * 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--records", type=int, default=50_000)
    args = parser.parse_args()
    n = args.records
    monitor = Monitor(target=args.target, model="loans", max_queue=n)
    runs = {"Monitor.log": [], "protobuf Record by hand": [], "json.dumps": []}
    for _ in range(5):
        runs["Monitor.log"].append(per_record(
            lambda i: monitor.log(FEATURES, OUTPUTS, METRICS, id=f"req-{i}"), n))
        monitor.flush(timeout=120)
        runs["protobuf Record by hand"].append(per_record(by_hand, n))
        runs["json.dumps"].append(per_record(
            lambda i: json.dumps({"id": f"req-{i}", "features": FEATURES, "outputs": OUTPUTS,
                                  "metrics": METRICS}), n))
    monitor.close()
    stats = monitor.stats
    assert stats.accepted == 5 * n and stats.dropped == 0, stats
    log = statistics.median(runs["Monitor.log"])
    for name, times in runs.items():
        t = statistics.median(times)
        print(f"{name:26s} {t:7.2f} µs/record   Monitor.log = {log / t:4.2f}×")
    print(f"daemon accepted {stats.accepted} records, dropped {stats.dropped}")


if __name__ == "__main__":
    main()
