"""The Monitor against the real daemon on loopback: what it sends is taken,
what the daemon refuses is counted with its reason, and the inference path
never blocks."""
import time

import grpc
import pandas as pd
import pytest

from conftest import CHAT_BASELINE, LOANS_REFERENCE, model_config, wait_until
from driftwatch_client import Monitor, Text
from driftwatch_client._proto import ingest_pb2, ingest_pb2_grpc
from driftwatch_client.sampling import RateSampler

RECORDS = 'driftwatch_records_total{model="loans"}'


def reference(n=1000):
    return pd.read_csv(LOANS_REFERENCE).head(n)


def test_a_frame_is_sent_whole_and_judged(loans):
    with Monitor(target=loans.target, model="loans") as monitor:
        queued = monitor.log_frame(reference(), outputs=["score"], texts=["notes"])
        assert monitor.flush()
        stats = monitor.stats
    assert queued == 1000
    assert (stats.accepted, stats.rejected, stats.failed, stats.dropped) == (1000, 0, 0, 0), stats
    assert loans.metric(RECORDS) == 1000
    wait_until(lambda: loans.metric('driftwatch_windows_evaluated_total{model="loans"}') == 1,
               "the window of 1000 judged", log=loans.log)
    # The reference itself against its own baseline: nothing drifted.
    assert loans.metric('driftwatch_drift_share{model="loans"}') == 0


def test_refused_records_are_counted_with_the_field_and_reason(loans):
    monitor = Monitor(target=loans.target, model="loans")
    monitor.log(features={"age": 41, "income": 52000.0, "purpose": "car", "notes": Text("first loan")})
    monitor.log(features={"age": float("nan")})
    monitor.log(features={"agee": 3})
    assert monitor.close()
    stats = monitor.stats
    assert (stats.accepted, stats.rejected) == (1, 2), stats
    assert any("features.age" in r and "NaN" in r for r in stats.last_rejections), stats.last_rejections
    assert any("features.agee" in r and "unknown field" in r for r in stats.last_rejections)
    assert loans.metric('driftwatch_records_rejected_total{model="loans",reason="not_finite"}') == 1
    with pytest.raises(RuntimeError, match="closed"):
        monitor.log(features={"age": 1})


def test_an_unknown_model_fails_the_batch_and_says_why(loans):
    with Monitor(target=loans.target, model="fraud") as monitor:
        monitor.log(features={"age": 1})
        monitor.flush()
        stats = monitor.stats
    assert stats.failed == 1 and stats.accepted == 0
    assert stats.last_error.startswith("NOT_FOUND") and "loans" in stats.last_error


def test_rate_sampling_sends_the_share_its_ids_choose(loans):
    frame = reference()
    ids = [f"req-{i}" for i in range(len(frame))]
    with Monitor(target=loans.target, model="loans", sample_rate=0.25) as monitor:
        for id, row in zip(ids, frame.to_dict(orient="records")):
            monitor.log_row(row, texts=["notes"], id=id)
        monitor.flush()
        stats = monitor.stats
    chosen = sum(RateSampler(0.25).keep(i) for i in ids)
    assert 200 < chosen < 300
    assert (stats.accepted, stats.sampled_out) == (chosen, 1000 - chosen)
    assert loans.metric(RECORDS) == chosen


def test_a_reservoir_sends_a_fixed_sample_per_interval(loans):
    monitor = Monitor(target=loans.target, model="loans", reservoir=100, flush_interval=60, seed=1)
    monitor.log_frame(reference(), texts=["notes"])
    assert monitor.close()
    stats = monitor.stats
    assert (stats.logged, stats.accepted, stats.sampled_out) == (1000, 100, 900), stats
    assert loans.metric(RECORDS) == 100


def test_a_full_queue_drops_and_counts_instead_of_blocking():
    # Nothing listens on this port: every send fails, the queue fills up.
    monitor = Monitor(target="127.0.0.1:9", model="loans", max_queue=50, batch_size=10,
                      retries=0, timeout=1)
    for i in range(5000):
        monitor.log(features={"age": i})
    monitor.close(timeout=5)
    stats = monitor.stats
    assert stats.logged == 5000
    assert stats.dropped > 4000 and stats.dropped + stats.failed + stats.accepted == 5000, stats
    # Had `log` waited for the sender (a failed call per batch), nothing
    # would have been dropped.
    assert stats.last_error.startswith("UNAVAILABLE")


def test_the_token_is_sent_as_a_bearer(serve, tmp_path):
    (tmp_path / "token").write_text("s3cret\n")
    daemon = serve(model_config(tmp_path / "data", server=f"auth_token_file = '{tmp_path / 'token'}'"))
    with Monitor(target=daemon.target, model="loans") as without:
        without.log(features={"age": 30})
        without.flush()
        assert without.stats.last_error.startswith("UNAUTHENTICATED")
    with Monitor(target=daemon.target, model="loans", token="s3cret") as with_token:
        with_token.log(features={"age": 30})
        with_token.flush()
        assert with_token.stats.accepted == 1


def test_a_chat_completion_is_monitored_through_its_texts(serve, tmp_path):
    daemon = serve(model_config(tmp_path / "data", name="chat", baseline=CHAT_BASELINE,
                                rest='unknown_fields = "ignore"'))
    request = {"model": "ft-support-v2", "messages": [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": "How do I change my billing address?"}]}
    response = {"id": "chatcmpl-1", "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "Open Settings, then Billing, and edit the address."}}],
        "usage": {"prompt_tokens": 21, "completion_tokens": 12, "total_tokens": 33}}
    with Monitor(target=daemon.target, model="chat") as monitor:
        assert monitor.log_chat(request, response, latency_ms=340.0, features={"reply_words": 9})
        monitor.flush()
        assert (monitor.stats.accepted, monitor.stats.rejected) == (1, 0), monitor.stats
    assert daemon.metric('driftwatch_window_records{model="chat"}') == 1
    with pytest.raises(ValueError, match="no message with role 'user'"):
        monitor.log_chat({"messages": []}, response)


class Recording(ingest_pb2_grpc.IngestServicer):
    """A gRPC server that keeps what it is sent, for what the daemon does
    not take yet."""

    def __init__(self):
        self.outcomes = []

    def SendOutcomes(self, request, context):
        self.outcomes.append(request)
        return ingest_pb2.SendResponse(accepted=len(request.outcomes))


def test_outcomes_go_out_by_id_and_follow_the_records_sampling():
    from concurrent import futures
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    recording = Recording()
    ingest_pb2_grpc.add_IngestServicer_to_server(recording, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with Monitor(target=f"127.0.0.1:{port}", model="loans", sample_rate=0.5) as monitor:
            ids = [f"req-{i}" for i in range(200)]
            for id in ids:
                monitor.log_outcome(id, labels={"label": 1, "reason": "chargeback"})
            monitor.flush()
            stats = monitor.stats
    finally:
        server.stop(None)
    sent = [o for request in recording.outcomes for o in request.outcomes]
    assert {r.model for r in recording.outcomes} == {"loans"}
    assert [o.id for o in sent] == [i for i in ids if RateSampler(0.5).keep(i)]
    assert sent[0].labels["label"].number == 1 and sent[0].labels["reason"].category == "chargeback"
    assert sent[0].time.seconds > 0
    assert (stats.outcomes_sent, stats.outcomes_sampled_out) == (len(sent), 200 - len(sent))


def test_outcomes_join_the_records_they_label(serve, tmp_path):
    quality = 'unknown_fields = "ignore"\n[model.quality]\ntask = "binary"\nmin_labels = 50\n'
    daemon = serve(model_config(tmp_path / "data", window=100, rest=quality))
    with Monitor(target=daemon.target, model="loans") as monitor:
        for i in range(100):
            monitor.log(features={"age": 30 + i % 40}, outputs={"prediction": i % 2}, id=f"req-{i}")
        monitor.flush()
        for i in reversed(range(100)):
            monitor.log_outcome(f"req-{i}", labels={"label": 1})
        monitor.log_outcome("req-1", labels={"label": 0})
        monitor.flush()
        stats = monitor.stats
    assert (stats.outcomes_sent, stats.outcomes_failed) == (101, 0), stats.last_error
    judged = 'driftwatch_quality_windows_total{model="loans",status="ok"}'
    wait_until(lambda: daemon.metric(judged) == 1.0, "the labelled window is judged", log=daemon.log)
    # Half the predictions are 1, every label is 1; the second label of req-1 is ignored.
    assert daemon.metric('driftwatch_quality{metric="accuracy",model="loans"}') == 0.5
    assert daemon.metric('driftwatch_outcomes_total{model="loans",result="duplicate"}') == 1.0


def test_outcomes_for_a_model_without_quality_are_counted_as_failed(loans):
    with Monitor(target=loans.target, model="loans") as monitor:
        monitor.log_outcome("req-1", labels={"label": 0})
        monitor.flush()
        stats = monitor.stats
    assert stats.outcomes_failed == 1 and stats.outcomes_sent == 0
    assert stats.last_error.startswith("FAILED_PRECONDITION")


def test_long_texts_make_smaller_batches_not_a_refused_one(serve, tmp_path):
    daemon = serve(model_config(tmp_path / "data", window=100_000))
    # 40 replies of 1 MiB: one batch of them would pass the daemon's 16 MiB limit.
    with Monitor(target=daemon.target, model="loans", batch_size=500) as monitor:
        for i in range(40):
            monitor.log(features={"notes": Text("word " * 200_000)}, id=f"r{i}")
        assert monitor.flush(timeout=60)
        stats = monitor.stats
    assert (stats.accepted, stats.failed) == (40, 0), stats


def test_records_logged_while_the_daemon_restarts_are_delivered_after_it(serve, tmp_path):
    from conftest import free_addr
    grpc_addr = free_addr()
    config = model_config(tmp_path / "data").replace('grpc_addr = "127.0.0.1:0"', f'grpc_addr = "{grpc_addr}"')
    first = serve(config)
    monitor = Monitor(target=grpc_addr, model="loans", retries=12, flush_interval=0.2)
    monitor.log(features={"age": 30})
    assert monitor.flush()
    assert first.stop() == 0  # drains; the open window is saved
    for i in range(10):  # sent into the outage: retried, not lost
        monitor.log(features={"age": 31 + i})
    time.sleep(1.0)  # the sender meets the outage before the daemon is back
    second = serve(config)
    assert monitor.flush(timeout=60)
    stats = monitor.stats
    monitor.close()
    assert (stats.accepted, stats.failed) == (11, 0), stats
    # The restarted daemon restored the first record's window and added the rest.
    assert second.metric('driftwatch_window_records{model="loans"}') == 11
