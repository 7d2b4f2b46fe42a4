#!/usr/bin/env bash
# Long run of the router's differential fuzzer (README, section "Fuzzing"):
#   reactive-router/fuzz.sh --seed 42 --count 50000 [--shrink 25]
# Builds the router and its test classes (nothing is installed into ~/.m2), then runs
# io.shardkit.router.fuzz.FuzzMain on embedded testkit shards. Prints match / refused by reason /
# mismatch by class; writes reactive-router/target/fuzz/summary-<seed>.json and findings-<seed>.md.
# Exits 1 when any statement mismatched.
set -euo pipefail
module="$(cd "$(dirname "$0")" && pwd)"
cd "$module/.."
mkdir -p "$module/target/fuzz"
mvn -B -ntp -q -pl reactive-router -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/fuzz/classpath.txt -Dmdep.includeScope=test
classpath="$(cat "$module/target/fuzz/classpath.txt"):$module/target/classes:$module/target/test-classes"
exec java -cp "$classpath" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  io.shardkit.router.fuzz.FuzzMain --out "$module/target/fuzz" "$@"
