package io.shardkit.benchmarks;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

/**
 * One JMH result reduced to what the summary and the charts need.
 *
 * @param benchmark simple class name and method, e.g. {@code PointSelectBenchmark.routed}
 * @param concurrency operations in flight ({@code inFlight} parameter; JMH threads without it)
 * @param mode JMH mode label ({@code thrpt}, {@code avgt})
 * @param score the primary score
 * @param error its 99.9% confidence half-width (NaN when JMH had too few iterations)
 * @param unit e.g. {@code ops/s}, {@code us/op}
 */
record Measurement(
    String benchmark, int concurrency, String mode, double score, double error, String unit) {

  /** From a result of the JMH Runner API. */
  static Measurement of(RunResult run) {
    BenchmarkParams params = run.getParams();
    Result<?> primary = run.getPrimaryResult();
    return new Measurement(
        simpleName(params.getBenchmark()),
        concurrency(params.getParam("inFlight"), params.getThreads()),
        params.getMode().shortLabel(),
        primary.getScore(),
        primary.getScoreError(),
        primary.getScoreUnit());
  }

  /**
   * Parses JMH's own JSON result format ({@code -rf json}), so a summary can also be computed from
   * a plain {@code java -jar benchmarks.jar ... -rf json} run.
   */
  static List<Measurement> fromJmhJson(String json) {
    List<Measurement> out = new ArrayList<>();
    for (Object o : new JsonArray(json)) {
      JsonObject run = (JsonObject) o;
      JsonObject params = run.getJsonObject("params", new JsonObject());
      JsonObject primary = run.getJsonObject("primaryMetric");
      Object error = primary.getValue("scoreError");
      out.add(
          new Measurement(
              simpleName(run.getString("benchmark")),
              concurrency(params.getString("inFlight"), run.getInteger("threads", 1)),
              run.getString("mode"),
              ((Number) primary.getValue("score")).doubleValue(),
              error instanceof Number n ? n.doubleValue() : Double.NaN,
              primary.getString("scoreUnit")));
    }
    return out;
  }

  JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("benchmark", benchmark)
            .put("concurrency", concurrency)
            .put("mode", mode)
            .put("score", score)
            .put("unit", unit);
    if (!Double.isNaN(error)) {
      json.put("error", error);
    }
    return json;
  }

  static Measurement fromJson(JsonObject json) {
    return new Measurement(
        json.getString("benchmark"),
        json.getInteger("concurrency"),
        json.getString("mode"),
        json.getDouble("score"),
        json.getDouble("error", Double.NaN),
        json.getString("unit"));
  }

  /**
   * {@code io.shardkit.benchmarks.PointSelectBenchmark.routed} → {@code
   * PointSelectBenchmark.routed}.
   */
  static String simpleName(String benchmark) {
    int method = benchmark.lastIndexOf('.');
    int type = benchmark.lastIndexOf('.', method - 1);
    return benchmark.substring(type + 1);
  }

  private static int concurrency(String inFlight, int threads) {
    return inFlight != null ? Integer.parseInt(inFlight) : threads;
  }

  /** Looks up {@code benchmark} at {@code concurrency}; null when absent. */
  static Measurement find(List<Measurement> all, String benchmark, int concurrency) {
    for (Measurement m : all) {
      if (m.benchmark.equals(benchmark) && m.concurrency == concurrency) {
        return m;
      }
    }
    return null;
  }
}
