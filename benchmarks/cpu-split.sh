#!/usr/bin/env bash
# CPU per operation, split between the benchmark JVM and the MariaDB shards it started: runs each
# named JMH benchmark alone (its own testkit shards), samples the CPU time (utime + stime, from
# /proc) of the JMH fork and of every testkit mariadbd over a window inside the measurement
# iteration, and prints ms of CPU per operation for each side. See benchmarks/README.md.
#   benchmarks/cpu-split.sh [-p inFlight=16] [-p name=value ...] TransferBenchmark.localOneShard ...
# Needs the shaded jar (benchmarks/run.sh builds it; or SKIP_BUILD=1 with one already built).
set -euo pipefail
cd "$(dirname "$0")/.."
params=()
while [[ "${1:-}" == "-p" ]]; do params+=(-p "$2"); shift 2; done
[[ " ${params[*]} " == *" inFlight="* ]] || params+=(-p inFlight=16)
if [[ "${SKIP_BUILD:-}" != "1" ]]; then
  mvn -B -ntp -q -Pbench -pl benchmarks -am -DskipTests -Djacoco.skip=true -Dspotless.check.skip=true package
fi
window=${WINDOW:-10}
tick=$(getconf CLK_TCK)
out=$(mktemp -d)
ticks() { # sum of utime + stime of the given pids
  local sum=0 p s
  for p in "$@"; do
    s=($(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null || echo "0 0"))
    sum=$((sum + s[0] + s[1]))
  done
  echo $sum
}
for bench in "$@"; do
  log="$out/$bench.log"
  java -cp benchmarks/target/benchmarks.jar -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    org.openjdk.jmh.Main "$bench\$" "${params[@]}" -f 1 -wi 2 -w 8s -i 1 -r $((window + 5))s >"$log" 2>&1 &
  jmh=$!
  until grep -qE '^Iteration +1:' "$log" 2>/dev/null; do
    kill -0 $jmh 2>/dev/null || { echo "$bench: JMH ended before measuring, see $log"; exit 1; }
    sleep 0.2
  done
  sleep 2 # inside the measurement iteration
  fork=$(pgrep -f org.openjdk.jmh.runner.ForkedMain | head -1)
  # this fork's servers only (their directory names its pid), not another JVM's testkit shards
  shards=$(pgrep -f "shardkit-shards-$fork-" | tr '\n' ' ')
  j0=$(ticks $fork); d0=$(ticks $shards); t0=$(date +%s.%N)
  sleep "$window"
  j1=$(ticks $fork); d1=$(ticks $shards); t1=$(date +%s.%N)
  wait $jmh || true
  score=$(grep -E "^$(echo "$bench" | sed 's/.*\.//; s/^/[A-Za-z]*\\./')|ops/s" "$log" | grep -oE '[0-9]+\.[0-9]+ +(±.*)?ops/s' | tail -1 | grep -oE '^[0-9.]+')
  python3 - "$bench" "$score" "$t0" "$t1" "$((j1 - j0))" "$((d1 - d0))" "$tick" <<'PY'
import sys
bench, score, t0, t1, j, d, tick = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
ops = score * (t1 - t0)
jm = j / tick * 1000 / ops
dm = d / tick * 1000 / ops
print(f"{bench}: {score:,.0f} ops/s; CPU per op: JVM {jm:.4f} ms, shards {dm:.4f} ms, total {jm + dm:.4f} ms ({(j + d) / tick / (t1 - t0):.2f} cores busy)")
PY
done
