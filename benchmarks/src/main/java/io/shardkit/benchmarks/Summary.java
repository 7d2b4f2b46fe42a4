package io.shardkit.benchmarks;

import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The named figures of {@code summary.json}, computed from the measurements of one run.
 *
 * <p>Ratios are our throughput divided by the other's, both measured in the same run at the same
 * concurrency ({@link #RATIO_CONCURRENCY} in flight for the summary; every concurrency in the raw
 * file). Above 1 means shardkit is faster. Router figures are microseconds per operation.
 */
final class Summary {

  /** The concurrency the summary's ratios are taken at. */
  static final int RATIO_CONCURRENCY = 16;

  /** A summary ratio: {@code ours} throughput / {@code other} throughput. */
  record Ratio(String name, String ours, String other) {}

  /** A summary latency figure: the average time of {@code benchmark}, in µs. */
  record Latency(String name, String benchmark) {}

  static final List<Latency> LATENCIES =
      List.of(
          new Latency("route_cached_us", "RouterBenchmark.cachedPointSelect"),
          new Latency("parse_first_us", "RouterBenchmark.firstSight"),
          new Latency("kway_merge_1000_rows_us", "RouterBenchmark.kWayMerge"));

  static final List<Ratio> RATIOS =
      List.of(
          new Ratio(
              "point_select_routed_vs_direct",
              "PointSelectBenchmark.routed",
              "PointSelectBenchmark.direct"),
          new Ratio("scatter_vs_single", "ScatterBenchmark.sharded", "ScatterBenchmark.single"),
          new Ratio(
              "transfer_xa_vs_local",
              "TransferBenchmark.xaTwoShards",
              "TransferBenchmark.localOneShard"),
          new Ratio(
              "transfer_xa_log_decision_vs_local",
              "TransferBenchmark.xaTwoShardsLogDecision",
              "TransferBenchmark.localOneShard"),
          new Ratio(
              "transfer_xa_async_vs_local",
              "TransferBenchmark.xaTwoShardsAsync",
              "TransferBenchmark.localOneShard"),
          new Ratio(
              "transfer_tcc_vs_local",
              "TransferBenchmark.tccTwoShards",
              "TransferBenchmark.localOneShard"),
          new Ratio(
              "transfer_tcc_async_vs_local",
              "TransferBenchmark.tccTwoShardsAsync",
              "TransferBenchmark.localOneShard"),
          new Ratio(
              "point_select_vs_shardingsphere",
              "PointSelectBenchmark.routed",
              "ShardingSphereBenchmark.pointSelect"),
          new Ratio(
              "transfer_xa_vs_shardingsphere_xa",
              "TransferBenchmark.xaTwoShards",
              "ShardingSphereBenchmark.xaTransfer"),
          new Ratio(
              "transfer_xa_mysql_pg_vs_local_pg",
              "PgTransferBenchmark.xaMysqlPg",
              "PgTransferBenchmark.localPg"));

  private Summary() {}

  /**
   * The figures, in a fixed order: latencies (µs) and ratios at {@link #RATIO_CONCURRENCY}. A
   * figure whose measurements are missing (a benchmark failed or was filtered out) is null.
   */
  static JsonObject figures(List<Measurement> measurements) {
    JsonObject out = new JsonObject();
    for (Latency latency : LATENCIES) {
      out.put(latency.name(), micros(Measurement.find(measurements, latency.benchmark(), 1)));
    }
    for (Ratio ratio : RATIOS) {
      out.put(ratio.name(), ratio(measurements, ratio, RATIO_CONCURRENCY));
    }
    return out;
  }

  /** Every ratio at every concurrency both sides were measured at: name → {concurrency → ratio}. */
  static JsonObject ratiosByConcurrency(List<Measurement> measurements) {
    JsonObject out = new JsonObject();
    for (Ratio ratio : RATIOS) {
      Map<Integer, Double> values = new TreeMap<>();
      for (Measurement m : measurements) {
        if (m.benchmark().equals(ratio.ours())) {
          Double value = ratio(measurements, ratio, m.concurrency());
          if (value != null) {
            values.put(m.concurrency(), value);
          }
        }
      }
      JsonObject byConcurrency = new JsonObject();
      values.forEach((c, v) -> byConcurrency.put(String.valueOf(c), v));
      out.put(ratio.name(), byConcurrency);
    }
    return out;
  }

  static Double ratio(List<Measurement> measurements, Ratio ratio, int concurrency) {
    Measurement ours = Measurement.find(measurements, ratio.ours(), concurrency);
    Measurement other = Measurement.find(measurements, ratio.other(), concurrency);
    if (ours == null || other == null || other.score() <= 0) {
      return null;
    }
    return round(ours.score() / other.score());
  }

  private static Double micros(Measurement m) {
    if (m == null) {
      return null;
    }
    double value =
        switch (m.unit()) {
          case "us/op" -> m.score();
          case "ns/op" -> m.score() / 1_000.0;
          case "ms/op" -> m.score() * 1_000.0;
          case "s/op" -> m.score() * 1_000_000.0;
          case "ops/us" -> 1.0 / m.score();
          case "ops/ms" -> 1_000.0 / m.score();
          case "ops/s" -> 1_000_000.0 / m.score();
          default -> throw new IllegalArgumentException("unknown JMH unit " + m.unit());
        };
    return round(value);
  }

  static double round(double value) {
    return BigDecimal.valueOf(value).setScale(3, RoundingMode.HALF_EVEN).doubleValue();
  }
}
