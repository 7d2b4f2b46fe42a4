package io.shardkit.benchmarks;

import java.util.ArrayList;
import java.util.List;

/** The suite: what the runner runs, in order, pairs side by side at each concurrency. */
final class Plan {

  /**
   * One JMH run: {@code benchmark} ({@code Class.method}) at {@code concurrency} in flight. {@code
   * threads}: concurrency is JMH threads (JDBC) rather than a window on one event loop. {@code
   * cpuOnly}: no database, no concurrency.
   */
  record Step(String benchmark, int concurrency, boolean threads, boolean cpuOnly) {
    String className() {
      return Plan.class.getPackageName() + "." + benchmark.substring(0, benchmark.indexOf('.'));
    }

    String method() {
      return benchmark.substring(benchmark.indexOf('.') + 1);
    }

    String label() {
      return cpuOnly ? benchmark : benchmark + " inFlight=" + concurrency;
    }
  }

  /** Groups of benchmarks compared with each other; one chart each. */
  record Group(String file, String title, List<String> benchmarks, List<String> labels) {}

  static final List<String> ROUTER =
      List.of(
          "RouterBenchmark.cachedPointSelect",
          "RouterBenchmark.firstSight",
          "RouterBenchmark.kWayMerge");

  static final List<Group> GROUPS =
      List.of(
          new Group(
              "point-select.svg",
              "Point select by key",
              List.of(
                  "PointSelectBenchmark.direct",
                  "PointSelectBenchmark.routed",
                  "ShardingSphereBenchmark.pointSelect",
                  "ShardingSphereBenchmark.jdbcDirectPointSelect"),
              List.of(
                  "direct Vert.x pool",
                  "shardkit ShardedPool",
                  "ShardingSphere-JDBC 5.3.2",
                  "direct JDBC (reference)")),
          new Group(
              "scatter.svg",
              "ORDER BY ... LIMIT: 4 shards vs one database",
              List.of("ScatterBenchmark.single", "ScatterBenchmark.sharded"),
              List.of("one database (Vert.x pool)", "4 shards (ShardedPool)")),
          new Group(
              "transfer.svg",
              "Transfer: local vs two-shard atomic",
              List.of(
                  "TransferBenchmark.localOneShard",
                  "TransferBenchmark.xaTwoShards",
                  "TransferBenchmark.xaTwoShardsLogDecision",
                  "TransferBenchmark.xaTwoShardsAsync",
                  "TransferBenchmark.tccTwoShards",
                  "TransferBenchmark.tccTwoShardsAsync",
                  "ShardingSphereBenchmark.xaTransfer"),
              List.of(
                  "local, one shard",
                  "shardkit XA, 2 shards",
                  "shardkit XA, 2 shards, decision in the log",
                  "shardkit XA, 2 shards, async second phase",
                  "shardkit TCC, 2 shards",
                  "shardkit TCC, 2 shards, async confirm",
                  "ShardingSphere XA, 2 shards")),
          new Group(
              "transfer-pg.svg",
              "Transfer: local PostgreSQL vs XA MySQL + PostgreSQL",
              List.of("PgTransferBenchmark.localPg", "PgTransferBenchmark.xaMysqlPg"),
              List.of("local, PostgreSQL", "shardkit XA, MySQL + PostgreSQL")));

  private Plan() {}

  /** The steps for these options: router first, then each group with its members interleaved. */
  static List<Step> steps(RunnerOptions options) {
    List<Step> steps = new ArrayList<>();
    for (String benchmark : ROUTER) {
      steps.add(new Step(benchmark, 1, false, true));
    }
    for (Group group : GROUPS) {
      for (int c : options.concurrency()) {
        for (String benchmark : group.benchmarks()) {
          steps.add(new Step(benchmark, c, benchmark.startsWith("ShardingSphere"), false));
        }
      }
    }
    if (options.only() != null) {
      steps.removeIf(s -> !options.only().matcher(s.benchmark()).find());
    }
    return steps;
  }

  /** Whether a step needs the PostgreSQL server ({@link PgTransferBenchmark}). */
  static boolean needsPostgres(List<Step> steps) {
    return steps.stream().anyMatch(s -> s.benchmark().startsWith("PgTransferBenchmark."));
  }

  /** Planned seconds of warmup and measurement for the steps. */
  static int plannedSeconds(List<Step> steps, RunnerOptions options) {
    int total = 0;
    for (Step step : steps) {
      total += options.timing(step.cpuOnly(), step.threads()).seconds();
    }
    return total;
  }
}
