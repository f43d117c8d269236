"""Send records to driftwatch from Python with grpcio, using stubs generated
from driftwatch's own proto file:

    python -m pip install grpcio grpcio-tools
    python -m grpc_tools.protoc -I proto --python_out=examples/python \
        --grpc_python_out=examples/python proto/driftwatch/v1/ingest.proto
    python examples/python/send_records.py --addr 127.0.0.1:50051

It sends a few records of the bundled `loans` model in one `Send`, then a
stream of batches with `SendStream`, and prints what driftwatch answered.
"""

import argparse
import random

import grpc

from driftwatch.v1 import ingest_pb2, ingest_pb2_grpc


def record(i, rng):
    r = ingest_pb2.Record(id=f"req-{i}")
    r.time.GetCurrentTime()
    r.features["age"].number = rng.randint(21, 70)
    r.features["income"].number = rng.lognormvariate(11, 0.4)
    r.features["purpose"].category = rng.choice(["home", "car", "education"])
    r.features["notes"].text = "customer has a stable income"
    r.outputs["score"].number = rng.random()
    r.metrics["latency_ms"] = rng.uniform(5, 50)
    return r


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--addr", default="127.0.0.1:50051")
    parser.add_argument("--token", help="bearer token, if the daemon requires one")
    args = parser.parse_args()
    rng = random.Random(7)
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else None
    with grpc.insecure_channel(args.addr) as channel:
        stub = ingest_pb2_grpc.IngestStub(channel)
        batch = ingest_pb2.SendRequest(model="loans", records=[record(i, rng) for i in range(10)])
        bad = batch.records.add(id="bad")
        bad.features["age"].number = float("nan")
        reply = stub.Send(batch, metadata=metadata)
        print(f"Send: accepted={reply.accepted} rejected={reply.rejected}")
        for r in reply.rejections:
            print(f"  record {r.record} {r.field}: {r.reason}")
        batches = (
            ingest_pb2.SendRequest(model="loans", records=[record(b * 100 + i, rng) for i in range(100)])
            for b in range(5)
        )
        reply = stub.SendStream(batches, metadata=metadata)
        print(f"SendStream: accepted={reply.accepted} rejected={reply.rejected}")


if __name__ == "__main__":
    main()
