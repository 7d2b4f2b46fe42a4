#!/usr/bin/env bash
# One command for the whole benchmark suite: builds the shaded jar (profile bench; plain `mvn verify`
# does not build it), starts the shards (testkit), loads the data, runs every benchmark and writes
# benchmarks/results/. See benchmarks/README.md.
#   benchmarks/run.sh --quick     # a few minutes, numbers are rough
#   benchmarks/run.sh             # the full suite (--full), about 20 minutes on 2 cores
#   benchmarks/run.sh --open-loop [--seconds 8] [--only REGEX] [--wait-queue N] [--max-in-flight N] [--queue-delay-target MS] [--tx-queue-delay-target MS] [--overload-only]   # open-loop latency (OpenLoop)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${SKIP_BUILD:-}" != "1" ]]; then
  mvn -B -ntp -q -Pbench -pl benchmarks -am -DskipTests -Djacoco.skip=true -Dspotless.check.skip=true package
fi
if [[ "${1:-}" == "--open-loop" ]]; then
  shift
  exec java -cp benchmarks/target/benchmarks.jar -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    io.shardkit.benchmarks.OpenLoop "$@"
fi
exec java -cp benchmarks/target/benchmarks.jar io.shardkit.benchmarks.BenchmarkRunner "$@"
