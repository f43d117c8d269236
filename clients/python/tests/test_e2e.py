"""driftwatch in the Prometheus stack, driven from Python: the client sends
drifted traffic; a real Prometheus scrapes the daemon and evaluates the
shipped rules of `alerts/`; a real Alertmanager routes their alerts; one
webhook receiver hears both driftwatch's own notification and
Alertmanager's.

The shipped rules wait minutes (`for: 10m`) before firing, as they should in
production; here every `for:` is cut to one second so that the test sees
them fire. Their expressions are used as shipped.
"""
import re

import pandas as pd
import pytest

from conftest import LOANS_REFERENCE, REPO, Tool, model_config, wait_until
from driftwatch_client import Monitor

RULES = REPO / "alerts" / "driftwatch.rules.yml"


def stack_config(name: str) -> str:
    """A config shared with the daemon's own end-to-end tests (tests/live)."""
    return (REPO / "tests" / "fixtures" / "stack" / name).read_text()


def drifted(frame: pd.DataFrame) -> pd.DataFrame:
    """The reference rows moved: older, richer applicants borrowing more,
    for a purpose and a term the model never saw."""
    return frame.assign(age=frame.age * 1.4, income=frame.income * 2.5,
                        loan_amount=frame.loan_amount * 3.0, score=frame.score * 0.5,
                        purpose="vacation", term=120)


@pytest.fixture
def alertmanager(tmp_path, receiver):
    (tmp_path / "alertmanager.yml").write_text(stack_config("alertmanager.yml").replace("{webhook_url}", receiver.url))
    tool = Tool(["prometheus-alertmanager", "alertmanager"], "prometheus-alertmanager", lambda addr: [
        f"--web.listen-address={addr}", "--cluster.listen-address=",
        f"--storage.path={tmp_path / 'am-data'}", f"--config.file={tmp_path / 'alertmanager.yml'}",
    ], tmp_path)
    yield tool
    tool.stop()


def prometheus(tmp_path, scrape: str, alertmanager: str) -> Tool:
    (tmp_path / "rules.yml").write_text(re.sub(r"(?m)^(\s*)for:.*$", r"\1for: 1s", RULES.read_text()))
    (tmp_path / "prometheus.yml").write_text(
        stack_config("prometheus.yml").replace("{driftwatch}", scrape).replace("{alertmanager}", alertmanager))
    return Tool(["prometheus"], "prometheus", lambda addr: [
        f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'prom-data'}",
        f"--web.listen-address={addr}",
    ], tmp_path)


def test_drift_sent_from_python_fires_in_driftwatch_prometheus_and_alertmanager(
        serve, tmp_path, receiver, alertmanager):
    daemon = serve(model_config(tmp_path / "data", rest=f"""
[[rule]]
name = "loans-drift"
model = "loans"
when = "drift_share >= 0.5"
severity = "critical"
notify = ["hook"]

[[notifier]]
name = "hook"
kind = "webhook"
url = "{receiver.url}"
"""))
    prom = prometheus(tmp_path, daemon.http, alertmanager.addr)
    try:
        query = lambda q: prom.get_json(f"/api/v1/query?query={q}")["data"]["result"]
        wait_until(lambda: query('up{job="driftwatch"}==1'), "Prometheus scraping driftwatch", log=prom.log)

        with Monitor(target=daemon.target, model="loans") as monitor:
            monitor.log_frame(drifted(pd.read_csv(LOANS_REFERENCE).head(1000)), texts=["notes"])
            assert monitor.flush()
            assert monitor.stats.accepted == 1000, monitor.stats

        own = wait_until(lambda: receiver.find(lambda b: b.get("rule") == "loans-drift"),
                         "driftwatch's own notification", log=daemon.log)
        assert own["status"] == "firing" and own["summary"]["drift_share"] >= 0.5, own

        share = wait_until(lambda: query('driftwatch_drift_share{model="loans"}>=0.5'),
                           "the drift share in Prometheus", log=prom.log)
        assert share[0]["metric"]["job"] == "driftwatch"
        firing = lambda: [a for a in prom.get_json("/api/v1/alerts")["data"]["alerts"]
                          if a["labels"]["alertname"] == "DriftwatchDatasetDrift" and a["state"] == "firing"]
        assert wait_until(firing, "DriftwatchDatasetDrift firing in Prometheus", log=prom.log)

        routed = wait_until(lambda: receiver.find(
            lambda b: b.get("version") == "4" and b["groupLabels"].get("alertname") == "DriftwatchDatasetDrift"),
            "Alertmanager's notification", log=alertmanager.log)
        assert routed["status"] == "firing"
        assert routed["alerts"][0]["labels"]["model"] == "loans"
    finally:
        prom.stop()
