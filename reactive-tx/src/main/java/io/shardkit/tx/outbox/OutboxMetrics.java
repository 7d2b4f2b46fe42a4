package io.shardkit.tx.outbox;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The {@code shardkit.outbox.*} meters, tagged by data source. */
final class OutboxMetrics {

  private final MeterRegistry registry;
  private final Map<String, AtomicLong> gauges = new ConcurrentHashMap<>();

  OutboxMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void published(String ds, String sink, long latencyMicros, boolean redelivery) {
    Counter.builder("shardkit.outbox.published")
        .description("messages published and acknowledged by the sink")
        .tags("data_source", ds, "sink", sink)
        .register(registry)
        .increment();
    Timer.builder("shardkit.outbox.latency")
        .description("from the outbox row's insert to the sink's acknowledgement")
        .tags("data_source", ds, "sink", sink)
        .publishPercentiles(0.5, 0.99)
        .register(registry)
        .record(Duration.ofNanos(Math.max(0, latencyMicros) * 1000));
    if (redelivery) {
      Counter.builder("shardkit.outbox.redeliveries")
          .description("messages published again after an attempt that may have published them")
          .tags("data_source", ds, "sink", sink)
          .register(registry)
          .increment();
    }
  }

  void failure(String ds, String kind) {
    Counter.builder("shardkit.outbox.failures")
        .description("failed publications, polls, marks and lease renewals")
        .tags("data_source", ds, "kind", kind)
        .register(registry)
        .increment();
  }

  void redriven(String ds, long n) {
    Counter.builder("shardkit.outbox.redriven")
        .description("published but unacknowledged messages set back to unpublished")
        .tags("data_source", ds)
        .register(registry)
        .increment(n);
  }

  /** Sets a gauge {@code name} for a data source (registered once, value held here). */
  void gauge(String name, String ds, long value, String description, String... tags) {
    gauges
        .computeIfAbsent(
            name + "|" + ds + "|" + String.join("|", tags),
            k -> {
              AtomicLong holder = new AtomicLong();
              Gauge.builder(name, holder, AtomicLong::get)
                  .description(description)
                  .tags("data_source", ds)
                  .tags(tags)
                  .register(registry);
              return holder;
            })
        .set(value);
  }
}
