package io.shardkit.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunnerOptionsTest {

  @Test
  void defaultsToFullModeInBenchmarksResults() {
    RunnerOptions o = RunnerOptions.parse();
    assertThat(o.quick()).isFalse();
    assertThat(o.mode()).isEqualTo("full");
    assertThat(o.out()).isEqualTo(Path.of("benchmarks", "results"));
    assertThat(o.concurrency()).containsExactly(1, 16, 64);
    assertThat(o.only()).isNull();
    assertThat(o.help()).isFalse();
    assertThat(o.from()).isNull();
  }

  @Test
  void parsesEveryOption() {
    RunnerOptions o =
        RunnerOptions.parse(
            "--quick",
            "--out",
            "/tmp/r",
            "--work",
            "/tmp/w",
            "--only",
            "Transfer",
            "--concurrency",
            "64,1,16,16",
            "--machine",
            "my box/1");
    assertThat(o.quick()).isTrue();
    assertThat(o.out()).isEqualTo(Path.of("/tmp/r"));
    assertThat(o.work()).isEqualTo(Path.of("/tmp/w"));
    assertThat(o.only().pattern()).isEqualTo("Transfer");
    assertThat(o.concurrency()).containsExactly(1, 16, 64);
    assertThat(o.machine()).isEqualTo("my-box-1");
    assertThat(RunnerOptions.parse("--help").help()).isTrue();
    assertThat(RunnerOptions.parse("--from", "r.json").from()).isEqualTo(Path.of("r.json"));
  }

  @Test
  void rejectsBadArguments() {
    assertThatThrownBy(() -> RunnerOptions.parse("--fast")).hasMessageContaining("--fast");
    assertThatThrownBy(() -> RunnerOptions.parse("--quick", "--full"))
        .hasMessageContaining("exclude");
    assertThatThrownBy(() -> RunnerOptions.parse("--out")).hasMessageContaining("needs a value");
    assertThatThrownBy(() -> RunnerOptions.parse("--concurrency", "0"))
        .hasMessageContaining("out of range");
    assertThatThrownBy(() -> RunnerOptions.parse("--concurrency", "x"))
        .hasMessageContaining("not a number");
  }

  @Test
  void quickModeIsShortAndFullModeFitsTheBudget() {
    RunnerOptions quick = RunnerOptions.parse("--quick");
    RunnerOptions full = RunnerOptions.parse("--full");
    assertThat(quick.timing(false)).isEqualTo(new RunnerOptions.Timing(1, 2, 2, 2));
    assertThat(full.timing(false).seconds()).isGreaterThan(quick.timing(false).seconds());
    List<Plan.Step> steps = Plan.steps(full);
    assertThat(steps).hasSize(Plan.steps(quick).size());
    // measurement + warmup, plus about 5 s per fork (JVM start, pools): quick within 9 minutes,
    // full within 30 (27 min 38 s measured with 45 steps; 48 with the async TCC transfer, 4 s
    // warmups)
    int quickSeconds = Plan.plannedSeconds(Plan.steps(quick), quick) + 5 * steps.size();
    int fullSeconds = Plan.plannedSeconds(steps, full) + 5 * steps.size();
    assertThat(quickSeconds).isLessThan(9 * 60);
    assertThat(fullSeconds).isBetween(12 * 60, 30 * 60);
  }

  @Test
  void planCoversTheSuiteWithPairsSideBySide() {
    List<Plan.Step> steps = Plan.steps(RunnerOptions.parse("--quick"));
    assertThat(steps).hasSize(3 + 3 * (4 + 2 + 7 + 2));
    assertThat(Plan.needsPostgres(steps)).isTrue();
    assertThat(steps.subList(steps.size() - 2, steps.size()))
        .extracting(Plan.Step::label)
        .containsExactly(
            "PgTransferBenchmark.localPg inFlight=64", "PgTransferBenchmark.xaMysqlPg inFlight=64");
    assertThat(steps.subList(0, 3)).allMatch(Plan.Step::cpuOnly);
    assertThat(steps.get(3).label()).isEqualTo("PointSelectBenchmark.direct inFlight=1");
    assertThat(steps.get(4).label()).isEqualTo("PointSelectBenchmark.routed inFlight=1");
    Plan.Step jdbc = steps.get(5);
    assertThat(jdbc.benchmark()).isEqualTo("ShardingSphereBenchmark.pointSelect");
    assertThat(jdbc.threads()).isTrue();
    assertThat(jdbc.className()).isEqualTo("io.shardkit.benchmarks.ShardingSphereBenchmark");
    assertThat(jdbc.method()).isEqualTo("pointSelect");
    assertThat(steps.stream().filter(s -> !s.benchmark().startsWith("ShardingSphere")))
        .noneMatch(Plan.Step::threads);
  }

  @Test
  void onlyAndConcurrencyNarrowThePlan() {
    List<Plan.Step> steps =
        Plan.steps(RunnerOptions.parse("--only", "Transfer", "--concurrency", "16"));
    assertThat(steps)
        .extracting(Plan.Step::label)
        .containsExactly(
            "TransferBenchmark.localOneShard inFlight=16",
            "TransferBenchmark.xaTwoShards inFlight=16",
            "TransferBenchmark.xaTwoShardsLogDecision inFlight=16",
            "TransferBenchmark.xaTwoShardsAsync inFlight=16",
            "TransferBenchmark.tccTwoShards inFlight=16",
            "TransferBenchmark.tccTwoShardsAsync inFlight=16",
            "ShardingSphereBenchmark.xaTransfer inFlight=16",
            "PgTransferBenchmark.localPg inFlight=16",
            "PgTransferBenchmark.xaMysqlPg inFlight=16");
    assertThat(Plan.needsPostgres(Plan.steps(RunnerOptions.parse("--only", "Point")))).isFalse();
  }
}
