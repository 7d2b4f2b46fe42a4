#!/usr/bin/env bash
# The consistency checker as a command (reactive-tx README, section "Consistency checker"):
#   reactive-tx/check.sh --config shardkit.json [--out report.json] [--copies | --transactions]
#       [--settle-ms 120000] [--chunk 1000] [--chunks-per-second 0]
# Builds reactive-tx (nothing is installed into ~/.m2) and runs io.shardkit.tx.check.CheckMain.
# Exit code: 0 consistent, 1 anomalies found, 2 could not run.
set -euo pipefail
module="$(cd "$(dirname "$0")" && pwd)"
cd "$module/.."
mkdir -p "$module/target/check"
mvn -B -ntp -q -pl reactive-tx -am compile dependency:build-classpath \
  -Dmdep.outputFile=target/check/classpath.txt -Dmdep.includeScope=runtime
classpath="$(cat "$module/target/check/classpath.txt"):$module/target/classes"
exec java -cp "$classpath" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  io.shardkit.tx.check.CheckMain "$@"
