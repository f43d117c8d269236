"""driftwatch-client: send a sample of a model's traffic, and its delayed
labels, to a driftwatch daemon over gRPC.

    from driftwatch_client import Monitor, Text

    with Monitor(target="127.0.0.1:50051", model="loans", sample_rate=0.1) as monitor:
        monitor.log(features={"age": 41, "purpose": "car", "notes": Text("first loan")},
                    outputs={"score": 0.73}, metrics={"latency_ms": 12.5}, id="req-1")
        monitor.log_outcome("req-1", labels={"label": 1})
"""
from .batcher import Stats
from .monitor import Monitor
from .values import Embedding, Text

__all__ = ["Embedding", "Monitor", "Stats", "Text"]
__version__ = "0.1.0"
