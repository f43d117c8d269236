"""Real parts for the client's tests: the driftwatch daemon as a separate
process (the binary `cargo build` made, or `$DRIFTWATCH_BIN`), an HTTP
receiver for webhooks, and the installed Prometheus and Alertmanager."""
from __future__ import annotations

import http.server
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from typing import Callable, List, Optional

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
LOANS_BASELINE = REPO / "examples" / "loans" / "baseline.json"
LOANS_REFERENCE = REPO / "examples" / "loans" / "reference.csv"
CHAT_BASELINE = REPO / "deploy" / "examples" / "llm-chat-baseline.json"


def wait_until(check: Callable, what: str, timeout: float = 30.0, log: Callable[[], str] = lambda: ""):
    """Polls `check` until it returns something truthy, which it returns."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s\n{log()}")
        time.sleep(0.2)


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.read().decode()


def free_addr() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


class Daemon:
    """`driftwatch serve` on a config, its addresses read from its log."""

    def __init__(self, binary: pathlib.Path, config: pathlib.Path):
        self.lines: List[str] = []
        self.process = subprocess.Popen([str(binary), "serve", "--config", str(config)],
                                        stderr=subprocess.PIPE, text=True)
        for line in self.process.stderr:
            self.lines.append(line)
            words = dict(w.split("=", 1) for w in line.split() if "=" in w)
            if "grpc_addr" in words and "http_addr" in words:
                self.target, self.http = words["grpc_addr"], words["http_addr"]
                break
        else:
            raise AssertionError(f"driftwatch exited before serving:\n{self.log()}")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    def log(self) -> str:
        return "".join(self.lines[-60:])

    def metric(self, series: str) -> Optional[float]:
        """The value of one exposed series, e.g. `driftwatch_records_total{model="loans"}`."""
        for line in http_get(f"http://{self.http}/metrics").splitlines():
            name, _, value = line.rpartition(" ")
            if name == series:
                return float(value)
        return None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def model_config(data_dir: pathlib.Path, *, name: str = "loans", baseline: pathlib.Path = LOANS_BASELINE,
                 window: int = 1000, rest: str = "", server: str = "") -> str:
    """A daemon config on free loopback ports with one model."""
    return f"""
[server]
grpc_addr = "127.0.0.1:0"
http_addr = "127.0.0.1:0"
data_dir = '{data_dir}'
{server}
[[model]]
name = "{name}"
baseline = '{baseline}'
window = {{ records = {window} }}
min_samples = 200
{rest}"""


@pytest.fixture(scope="session")
def driftwatch_bin() -> pathlib.Path:
    binary = pathlib.Path(os.environ.get("DRIFTWATCH_BIN", REPO / "target" / "debug" / "driftwatch"))
    if not binary.is_file():
        pytest.fail(f"no driftwatch binary at {binary}: run `cargo build` first, or set DRIFTWATCH_BIN")
    return binary


@pytest.fixture
def serve(driftwatch_bin, tmp_path):
    """`serve(config_text)` starts a daemon, stopped (SIGTERM) after the test."""
    started: List[Daemon] = []

    def start(config: str) -> Daemon:
        path = tmp_path / f"driftwatch-{len(started)}.toml"
        path.write_text(config)
        started.append(Daemon(driftwatch_bin, path))
        return started[-1]

    yield start
    for daemon in started:
        assert daemon.stop() == 0, daemon.log()


@pytest.fixture
def loans(serve, tmp_path) -> Daemon:
    """A daemon monitoring the bundled loans model in windows of 1000."""
    return serve(model_config(tmp_path / "data"))


class Receiver:
    """A real HTTP server that answers 200 to every POST and keeps its JSON."""

    def __init__(self):
        self.bodies: List[dict] = []
        bodies = self.bodies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                bodies.append(json.loads(self.rfile.read(length) or b"null"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def find(self, predicate: Callable[[dict], bool]) -> Optional[dict]:
        return next((b for b in list(self.bodies) if predicate(b)), None)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


class Tool:
    """An installed Prometheus-stack binary on a free port, ready when
    `/-/ready` answers."""

    def __init__(self, names: List[str], package: str, args: Callable[[str], List[str]], cwd: pathlib.Path):
        binary = next((shutil.which(n) for n in names if shutil.which(n)), None)
        if binary is None:
            pytest.fail(f"{names[0]} is not installed: `apt-get install {package}` (.ci/run does)")
        self.addr = free_addr()
        self.log_path = cwd / f"{names[0]}.log"
        self.process = subprocess.Popen([binary, *args(self.addr)], cwd=cwd,
                                        stdout=subprocess.DEVNULL, stderr=self.log_path.open("w"))
        wait_until(self._ready, f"{names[0]} ready", log=self.log)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"exited ({self.process.returncode}):\n{self.log()}")
        try:
            return http_get(f"http://{self.addr}/-/ready") is not None
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text()[-4000:]

    def get_json(self, path: str) -> dict:
        return json.loads(http_get(f"http://{self.addr}{path}"))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
