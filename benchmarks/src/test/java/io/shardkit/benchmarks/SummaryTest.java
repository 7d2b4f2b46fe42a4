package io.shardkit.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summary figures from a fixture in JMH's JSON result format (no database, no JMH run). */
class SummaryTest {

  static List<Measurement> fixture() throws Exception {
    try (InputStream in = SummaryTest.class.getResourceAsStream("/jmh-result-fixture.json")) {
      return Measurement.fromJmhJson(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void parsesJmhResults() throws Exception {
    List<Measurement> all = fixture();
    assertThat(all).hasSize(29);
    Measurement routed = Measurement.find(all, "PointSelectBenchmark.routed", 16);
    assertThat(routed.score()).isEqualTo(9500.0);
    assertThat(routed.unit()).isEqualTo("ops/s");
    assertThat(routed.mode()).isEqualTo("thrpt");
    Measurement jdbc = Measurement.find(all, "ShardingSphereBenchmark.pointSelect", 64);
    assertThat(jdbc.score()).isEqualTo(5500.0);
    Measurement merge = Measurement.find(all, "RouterBenchmark.kWayMerge", 1);
    assertThat(merge.error()).isNaN();
  }

  @Test
  void figuresAreRatiosAtSixteenAndRouterMicros() throws Exception {
    JsonObject figures = Summary.figures(fixture());
    assertThat(figures.getDouble("route_cached_us")).isEqualTo(0.812);
    assertThat(figures.getDouble("parse_first_us")).isEqualTo(41.25);
    assertThat(figures.getDouble("point_select_routed_vs_direct")).isEqualTo(0.95);
    assertThat(figures.getDouble("scatter_vs_single")).isEqualTo(0.25);
    assertThat(figures.getDouble("transfer_xa_vs_local")).isEqualTo(0.5);
    assertThat(figures.getDouble("transfer_tcc_vs_local")).isEqualTo(0.25);
    assertThat(figures.getDouble("point_select_vs_shardingsphere")).isEqualTo(1.9);
    assertThat(figures.getDouble("transfer_xa_vs_shardingsphere_xa")).isEqualTo(2.5);
    assertThat(figures.fieldNames())
        .contains(
            "route_cached_us",
            "parse_first_us",
            "point_select_routed_vs_direct",
            "transfer_xa_vs_local",
            "transfer_tcc_vs_local",
            "point_select_vs_shardingsphere",
            "transfer_xa_vs_shardingsphere_xa",
            "scatter_vs_single");
  }

  @Test
  void ratiosAtEveryConcurrencyBothSidesHave() throws Exception {
    JsonObject byConcurrency = Summary.ratiosByConcurrency(fixture());
    JsonObject xa = byConcurrency.getJsonObject("transfer_xa_vs_local");
    assertThat(xa.getDouble("1")).isEqualTo(0.375);
    assertThat(xa.getDouble("16")).isEqualTo(0.5);
    assertThat(xa.getDouble("64")).isEqualTo(0.5);
    // TCC was not measured at 64: no ratio there rather than a wrong one
    assertThat(byConcurrency.getJsonObject("transfer_tcc_vs_local").fieldNames())
        .containsExactlyInAnyOrder("1", "16");
  }

  @Test
  void missingMeasurementsGiveNullNotZero() throws Exception {
    List<Measurement> some =
        fixture().stream().filter(m -> !m.benchmark().startsWith("ShardingSphere")).toList();
    JsonObject figures = Summary.figures(some);
    assertThat(figures.containsKey("point_select_vs_shardingsphere")).isTrue();
    assertThat(figures.getValue("point_select_vs_shardingsphere")).isNull();
    assertThat(figures.getDouble("transfer_xa_vs_local")).isEqualTo(0.5);
  }

  @Test
  void asyncXaTransferRatioIsOverTheSameLocalTransfer() throws Exception {
    assertThat(Summary.figures(fixture()).getValue("transfer_xa_async_vs_local")).isNull();
    List<Measurement> m =
        List.of(
            new Measurement("TransferBenchmark.localOneShard", 16, "thrpt", 4000, 10, "ops/s"),
            new Measurement("TransferBenchmark.xaTwoShardsAsync", 16, "thrpt", 2000, 10, "ops/s"));
    assertThat(Summary.figures(m).getDouble("transfer_xa_async_vs_local")).isEqualTo(0.5);
  }

  @Test
  void asyncTccTransferRatioIsOverTheSameLocalTransfer() throws Exception {
    assertThat(Summary.figures(fixture()).getValue("transfer_tcc_async_vs_local")).isNull();
    List<Measurement> m =
        List.of(
            new Measurement("TransferBenchmark.localOneShard", 16, "thrpt", 4000, 10, "ops/s"),
            new Measurement("TransferBenchmark.tccTwoShardsAsync", 16, "thrpt", 1000, 10, "ops/s"));
    assertThat(Summary.figures(m).getDouble("transfer_tcc_async_vs_local")).isEqualTo(0.25);
  }

  @Test
  void multiSourceTransferRatioIsXaMysqlPgOverLocalPg() throws Exception {
    // not in the fixture: null there, never 0
    assertThat(Summary.figures(fixture()).containsKey("transfer_xa_mysql_pg_vs_local_pg")).isTrue();
    assertThat(Summary.figures(fixture()).getValue("transfer_xa_mysql_pg_vs_local_pg")).isNull();
    List<Measurement> m =
        List.of(
            new Measurement("PgTransferBenchmark.localPg", 1, "thrpt", 1000, 10, "ops/s"),
            new Measurement("PgTransferBenchmark.xaMysqlPg", 1, "thrpt", 300, 10, "ops/s"),
            new Measurement("PgTransferBenchmark.localPg", 16, "thrpt", 4000, 10, "ops/s"),
            new Measurement("PgTransferBenchmark.xaMysqlPg", 16, "thrpt", 1000, 10, "ops/s"));
    assertThat(Summary.figures(m).getDouble("transfer_xa_mysql_pg_vs_local_pg")).isEqualTo(0.25);
    JsonObject byConcurrency =
        Summary.ratiosByConcurrency(m).getJsonObject("transfer_xa_mysql_pg_vs_local_pg");
    assertThat(byConcurrency.getDouble("1")).isEqualTo(0.3);
    assertThat(byConcurrency.fieldNames()).containsExactlyInAnyOrder("1", "16");
  }

  @Test
  void nanosecondsAndThroughputUnitsBecomeMicros() {
    List<Measurement> m =
        List.of(
            new Measurement("RouterBenchmark.cachedPointSelect", 1, "avgt", 1500, 1, "ns/op"),
            new Measurement("RouterBenchmark.firstSight", 1, "thrpt", 0.025, 0, "ops/us"));
    JsonObject figures = Summary.figures(m);
    assertThat(figures.getDouble("route_cached_us")).isEqualTo(1.5);
    assertThat(figures.getDouble("parse_first_us")).isEqualTo(40.0);
  }

  @Test
  void rewritesSummaryAndChartsFromARawFileOrJmhJson(@TempDir Path dir) throws Exception {
    Path jmh = dir.resolve("jmh.json");
    try (InputStream in = SummaryTest.class.getResourceAsStream("/jmh-result-fixture.json")) {
      Files.write(jmh, in.readAllBytes());
    }
    Path out = dir.resolve("out");
    new BenchmarkRunner(
            RunnerOptions.parse("--out", out.toString(), "--machine", "box"),
            new PrintStream(OutputStream.nullOutputStream()))
        .rewrite(jmh);
    JsonObject summary = new JsonObject(Files.readString(out.resolve("summary.json")));
    assertThat(summary.getString("machine")).isEqualTo("box");
    assertThat(summary.getDouble("transfer_xa_vs_local")).isEqualTo(0.5);
    assertThat(out.resolve("transfer.svg")).exists();

    JsonArray raw = new JsonArray();
    fixture().forEach(m -> raw.add(m.toJson()));
    Path rawFile = dir.resolve("2026-01-01-box.json");
    Files.writeString(
        rawFile,
        new JsonObject()
            .put("machine", "box")
            .put("date", "2026-01-01")
            .put("mode", "full")
            .put("measurements", raw)
            .encode());
    Path out2 = dir.resolve("out2");
    new BenchmarkRunner(
            RunnerOptions.parse("--out", out2.toString()),
            new PrintStream(OutputStream.nullOutputStream()))
        .rewrite(rawFile);
    JsonObject again = new JsonObject(Files.readString(out2.resolve("summary.json")));
    assertThat(again.getString("date")).isEqualTo("2026-01-01");
    assertThat(again.getDouble("point_select_vs_shardingsphere")).isEqualTo(1.9);
    assertThat(Files.readString(out2.resolve("point-select.svg"))).contains("box, 2026-01-01");
  }

  @Test
  void rawJsonRoundTrips() throws Exception {
    for (Measurement m : fixture()) {
      Measurement back = Measurement.fromJson(m.toJson());
      assertThat(back.benchmark()).isEqualTo(m.benchmark());
      assertThat(back.concurrency()).isEqualTo(m.concurrency());
      assertThat(back.score()).isEqualTo(m.score());
    }
  }
}
