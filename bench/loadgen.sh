#!/usr/bin/env bash
# The daemon under load: starts `driftwatch serve` with one model of 25
# features (20 numeric, 5 categorical), drives it with `driftwatch loadgen`
# in both wire forms over 1, 2 and 4 streams, and prints per run the rate,
# the server's CPU per record (utime + stime from /proc/<pid>/stat) and its
# resident memory (VmRSS at idle, VmHWM during the run). See
# docs/performance.md.
#
#   bench/loadgen.sh [DURATION]        # default 10s per run
#   DRIFTWATCH=path/to/driftwatch bench/loadgen.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${DRIFTWATCH:-${CARGO_TARGET_DIR:-target}/debug/driftwatch}
duration=${1:-10s}
grpc=127.0.0.1:${GRPC_PORT:-50151}
http=127.0.0.1:${HTTP_PORT:-9208}
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# A 5000-row reference: numbers of a few shapes, labels of unequal weights.
awk -v rows=5000 'BEGIN {
  srand(1)
  for (i = 0; i < 20; i++) printf "n%d,", i
  print "c0,c1,c2,c3,c4"
  split("home car education business medical", labels, " ")
  for (r = 0; r < rows; r++) {
    for (i = 0; i < 20; i++) {
      u = rand()
      x = (i % 4 == 0) ? -log(1 - u) * 10 : (i % 4 == 1) ? u * 100 : (i % 4 == 2) ? (u + rand() + rand()) * 3 : int(u * 50)
      printf "%.4f,", x
    }
    for (i = 0; i < 5; i++) printf "%s%s", labels[1 + int(5 * rand() * rand())], (i < 4 ? "," : "\n")
  }
}' > "$work/reference.csv"
"$bin" baseline build --input "$work/reference.csv" --out "$work/baseline.json" --model wide

# A window of a million records: it closes once in a run or two, so the
# figures are ingest's, with detection's share amortised as in production.
cat > "$work/driftwatch.toml" <<EOF
version = 1
[server]
grpc_addr = "$grpc"
http_addr = "$http"
data_dir  = "data"
[[model]]
name     = "wide"
baseline = "baseline.json"
window   = { records = 1000000 }
EOF
RUST_LOG=warn "$bin" serve --config "$work/driftwatch.toml" 2> "$work/serve.log" &
server=$!
until curl -sf "http://$http/readyz" > /dev/null; do sleep 0.2; done

ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$server/status"; }
echo "idle: VmRSS $(( $(kib VmRSS) / 1024 )) MiB"
echo
echo "| form | streams | records/s | batches/s | server CPU µs/record | client CPU µs/record | per batch mean / p99 ms | VmHWM MiB | rejected |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for form in rows columnar; do
  for streams in 1 2 4; do
    echo 5 > "/proc/$server/clear_refs" 2>/dev/null || true   # resets VmHWM
    before=$(cpu)
    out=$(/usr/bin/time -f 'client %U %S' "$bin" loadgen --addr "http://$grpc" \
      --baseline "$work/baseline.json" --form "$form" --batch 1000 \
      --streams "$streams" --duration "$duration" 2>&1)
    after=$(cpu)
    echo "$out" | awk -v form="$form" -v streams="$streams" -v server=$((after - before)) \
      -v ticks="$ticks" -v hwm="$(( $(kib VmHWM) / 1024 ))" '
      / records in / { records = $1; rate = $9; batches = $11 }
      /^accepted/ { rejected = $4 }
      /^per batch/ { mean = $6; p99 = $9 }
      /^client/ { client = $2 + $3 }
      END {
        printf "| %s | %d | %.0f | %.1f | %.2f | %.2f | %s / %s | %d | %s |\n", form, streams, rate, batches,
          server / ticks / records * 1e6, client / records * 1e6, mean, p99, hwm, rejected
      }'
  done
done
