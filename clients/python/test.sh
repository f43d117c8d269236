#!/usr/bin/env bash
# The Python client's tests, against the daemon this checkout builds: unit
# tests, the Monitor against a real `driftwatch serve`, and the end-to-end
# test with the installed Prometheus and Alertmanager. Makes its own
# virtualenv (clients/python/.venv, or $DRIFTWATCH_CLIENT_VENV) from PyPI.
set -euo pipefail
cd "$(dirname "$0")"
venv="${DRIFTWATCH_CLIENT_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
cargo build --quiet --bin driftwatch --manifest-path ../../Cargo.toml
DRIFTWATCH_BIN="$(cd ../.. && pwd)/target/debug/driftwatch" "$venv/bin/python" -m pytest -q "$@"
