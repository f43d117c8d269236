#!/usr/bin/env python3
"""driftwatch vs scipy on the standard workload, in one run on one machine.

Needs the data from ../shared/bench/gen_data.py (1,000,000-row reference,
100,000-row current file) and a Python with numpy, pandas, pyarrow, scipy:

    python3 -m venv .venv && .venv/bin/pip install numpy pandas pyarrow scipy
    .venv/bin/python ../shared/bench/gen_data.py --out DATA
    cargo build --release
    .venv/bin/python bench/compare.py DATA

It times (wall clock, peak RSS of the process, median of --reps runs):
  1. `driftwatch baseline build` on reference.csv (once);
  2. `driftwatch report` on current.csv with the same tests as scipy's suite
     (KS, normed Wasserstein, Jensen-Shannon and PSI on numeric columns;
     chi-squared, Jensen-Shannon and PSI on categorical ones), reading the
     baseline and the CSV included;
  3. ../shared/bench/bench_scipy.py's batch suite (frames already in memory);
and checks that every statistic agrees with scipy's on the raw columns
within the baseline summary's documented bound.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "driftwatch")
SCIPY_BENCH = os.path.join(ROOT, "..", "shared", "bench", "bench_scipy.py")
TESTS = "ks,wasserstein,jensenshannon,psi,chi2"


def timed(cmd, **kw):
    """Runs cmd; returns (seconds, peak RSS MiB, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[:3]} failed: {err.decode()}")
    return secs, usage.ru_maxrss / 1024.0, out


def main():
    data = sys.argv[1]
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 3
    tmp = tempfile.mkdtemp()
    baseline = os.path.join(tmp, "baseline.json")
    b_s, b_rss, _ = timed([BIN, "baseline", "build", "--input", f"{data}/reference.csv",
                           "--out", baseline, "--model", "bench", "--kind", "prediction=categorical"])
    runs = [timed([BIN, "report", "--json", "--tests", TESTS, "--baseline", baseline,
                   "--input", f"{data}/current.csv"]) for _ in range(reps)]
    report = json.loads(runs[-1][2])
    scipy_json = os.path.join(tmp, "scipy.json")
    timed([sys.executable, SCIPY_BENCH, data, scipy_json, "--reps", str(reps), "--stream-reps", "0"])
    scipy = json.load(open(scipy_json))
    r_s = statistics.median(r[0] for r in runs)
    r_rss = max(r[1] for r in runs)
    s_s = scipy["batch_median_s"]
    print(f"baseline build, 1,000,000 rows: {b_s:.2f} s, peak RSS {b_rss:.0f} MiB, "
          f"baseline {os.path.getsize(baseline) / 1e6:.1f} MB")
    print(f"report, 100,000 rows (whole process, median of {reps}): {r_s:.3f} s, peak RSS {r_rss:.0f} MiB")
    print(f"scipy batch suite (in memory, median of {reps}): {s_s:.2f} s, peak RSS {scipy['rss_mb']['peak']:.0f} MiB")
    print(f"speed-up: {s_s / r_s:.1f}x; memory: {scipy['rss_mb']['peak'] / r_rss:.1f}x less")
    check_agreement(report, scipy["results"])


def check_agreement(report, scipy):
    """Largest differences per statistic between driftwatch and scipy."""
    names = {"ks": "ks_stat", "wasserstein": "wasserstein_norm", "jensenshannon": "js",
             "psi": "psi", "chi2": "chi2"}
    worst = {}
    for f in report["features"]:
        want = scipy[f["name"]]
        for t in f["tests"]:
            key = names[t["test"]]
            # scipy's suite calls chi2_contingency(correction=False); ours
            # applies Yates as scipy's default does, which only matters at dof 1.
            if key == "chi2" and want.get("chi2_dof") == 1:
                continue
            if key in want and t["statistic"] is not None:
                err = abs(t["statistic"] - want[key])
                worst[t["test"]] = max(worst.get(t["test"], 0.0), err)
            if t["test"] == "ks":
                worst["ks p-value"] = max(worst.get("ks p-value", 0.0), abs(t["p_value"] - want["ks_p"]))
    for k, v in sorted(worst.items()):
        print(f"  largest |driftwatch - scipy| for {k}: {v:.2e}")


if __name__ == "__main__":
    main()
