package io.shardkit.router.impl.execute;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Micrometer meters of a ShardedPool, or nothing when no registry was given:
 *
 * <ul>
 *   <li>{@code shardkit.router.statements} (counter; {@code route} = single, scatter, refused);
 *   <li>{@code shardkit.router.unit} (timer of one unit on one data source; {@code data_source},
 *       {@code outcome} = success, failure, unavailable);
 *   <li>{@code shardkit.router.plans} (gauge: cached plans).
 * </ul>
 */
final class RouterMetrics {

  static final RouterMetrics NONE = new RouterMetrics(null, null);

  private final MeterRegistry registry;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Counter single;
  private final Counter scatter;
  private final Counter refused;

  private RouterMetrics(MeterRegistry registry, PlanCache cache) {
    this.registry = registry;
    if (registry == null) {
      single = scatter = refused = null;
      return;
    }
    single = registry.counter("shardkit.router.statements", "route", "single");
    scatter = registry.counter("shardkit.router.statements", "route", "scatter");
    refused = registry.counter("shardkit.router.statements", "route", "refused");
    registry.gauge("shardkit.router.plans", cache, PlanCache::size);
  }

  static RouterMetrics of(MeterRegistry registry, PlanCache cache) {
    return registry == null ? NONE : new RouterMetrics(registry, cache);
  }

  void routed(int units) {
    if (registry != null) {
      (units == 1 ? single : scatter).increment();
    }
  }

  void refused() {
    if (registry != null) {
      refused.increment();
    }
  }

  /** Start time for {@link #unit}, 0 when disabled. */
  long start() {
    return registry == null ? 0 : System.nanoTime();
  }

  void unit(String dataSource, String outcome, long start) {
    if (registry == null) {
      return;
    }
    timers
        .computeIfAbsent(
            dataSource + '\u0000' + outcome,
            k ->
                Timer.builder("shardkit.router.unit")
                    .tag("data_source", dataSource)
                    .tag("outcome", outcome)
                    .register(registry))
        .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
  }
}
