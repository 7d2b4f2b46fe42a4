package io.shardkit.tx.impl;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardkit.router.ShardCircuitBreaker;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The meters of data sources outside the router (Redis, PostgreSQL), on the names the router uses
 * for its shards, tagged {@code shard = <source>}: one dashboard shows every store.
 */
public final class SourceMeters {

  private final MeterRegistry registry;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  public SourceMeters(MeterRegistry registry) {
    this.registry = registry;
  }

  /** {@code shardkit.router.shard.statements}: one call's latency, by kind and outcome. */
  public Timer statements(String source, String kind, String outcome) {
    return timers.computeIfAbsent(
        source + '|' + kind + '|' + outcome,
        k ->
            Timer.builder("shardkit.router.shard.statements")
                .description("Statement latency on one shard (one route unit)")
                .tag("shard", source)
                .tag("kind", kind)
                .tag("outcome", outcome)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry));
  }

  /** {@code shardkit.breaker.transitions}: a breaker entered {@code to}. */
  public void transition(String source, ShardCircuitBreaker.State to) {
    counters
        .computeIfAbsent(
            "transitions|" + source + '|' + to,
            k ->
                Counter.builder("shardkit.breaker.transitions")
                    .description("Circuit breaker state changes, by the state entered")
                    .tag("shard", source)
                    .tag("state", to.name().toLowerCase(Locale.ROOT))
                    .register(registry))
        .increment();
  }

  /** {@code shardkit.breaker.rejected}: a call refused by an open breaker. */
  public void rejected(String source) {
    counters
        .computeIfAbsent(
            "rejected|" + source,
            k ->
                Counter.builder("shardkit.breaker.rejected")
                    .description("Statements and enlistments refused by an open breaker")
                    .tag("shard", source)
                    .register(registry))
        .increment();
  }
}
