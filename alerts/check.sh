#!/usr/bin/env bash
# Lints driftwatch's Prometheus alerting rules and runs their unit tests.
# Needs promtool (Debian: apt-get install prometheus). Works from any cwd.
set -euo pipefail
cd "$(dirname "$0")/.."
promtool check rules alerts/driftwatch.rules.yml
promtool test rules alerts/driftwatch.rules.test.yml
