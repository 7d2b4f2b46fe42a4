package io.shardkit.tx.impl.xa;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardkit.tx.spi.TransactionObserver;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code shardkit.tx.*} meters (tags are bounded: mode, outcome, phase, result, action, data
 * source; never ids or SQL). Meters are looked up once per tag combination and cached.
 */
final class MetricsObserver implements TransactionObserver {

  private final MeterRegistry registry;
  private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();

  /** Phase timers by mode, then phase: [ok, error]; no key string built per phase. */
  private final ConcurrentMap<String, ConcurrentMap<String, Timer[]>> phaseTimers =
      new ConcurrentHashMap<>();

  private final AtomicInteger inDoubt = new AtomicInteger();
  private final AtomicInteger unreachable = new AtomicInteger();

  MetricsObserver(MeterRegistry registry) {
    this.registry = registry;
    // The gauges follow the first Transactions of a registry (README): a later one does not
    // register them again, which Micrometer would ignore with an "already registered" warning.
    if (absent("shardkit.tx.in.doubt")) {
      Gauge.builder("shardkit.tx.in.doubt", inDoubt, AtomicInteger::get)
          .description(
              "Left in doubt by the last recovery pass (xa: prepared branches, tcc: transactions)")
          .tag("mode", XaTransactionsImpl.MODE)
          .register(registry);
    }
    if (absent("shardkit.tx.recovery.unreachable")) {
      Gauge.builder("shardkit.tx.recovery.unreachable", unreachable, AtomicInteger::get)
          .description("Data sources the last recovery pass could not scan")
          .tag("mode", XaTransactionsImpl.MODE)
          .register(registry);
    }
  }

  private boolean absent(String gauge) {
    return registry.find(gauge).tag("mode", XaTransactionsImpl.MODE).meter() == null;
  }

  @Override
  public void phaseEnded(String mode, String globalId, String phase, Duration took, boolean ok) {
    Timer[] byResult =
        phaseTimers
            .computeIfAbsent(mode, k -> new ConcurrentHashMap<>())
            .computeIfAbsent(phase, k -> new Timer[2]);
    int i = ok ? 0 : 1;
    Timer timer = byResult[i];
    if (timer == null) {
      timer =
          Timer.builder("shardkit.tx.phase")
              .description("Duration of one transaction phase")
              .tags("mode", mode, "phase", phase, "result", ok ? "ok" : "error")
              .register(registry); // the registry hands back the same timer to a racing thread
      byResult[i] = timer;
    }
    timer.record(took);
  }

  @Override
  public void transactionEnded(String mode, String globalId, Outcome outcome, int branches) {
    String name = outcome.name().toLowerCase(java.util.Locale.ROOT);
    counters
        .computeIfAbsent(
            "tx|" + mode + '|' + name,
            k ->
                Counter.builder("shardkit.tx.transactions")
                    .description("Transactions by outcome")
                    .tags("mode", mode, "outcome", name)
                    .register(registry))
        .increment();
  }

  @Override
  public void recovered(String mode, String dataSource, String action, boolean decidedByRecovery) {
    String decided = decidedByRecovery ? "recovery" : "coordinator";
    counters
        .computeIfAbsent(
            "rec|" + mode + '|' + dataSource + '|' + action + '|' + decided,
            k ->
                Counter.builder("shardkit.tx.recovered")
                    .description("Branches finished by recovery")
                    .tags(
                        "mode", mode, "shard", dataSource, "action", action, "decided_by", decided)
                    .register(registry))
        .increment();
  }

  @Override
  public void recoveryPassEnded(String mode, int inDoubt, int unreachable) {
    this.inDoubt.set(inDoubt);
    this.unreachable.set(unreachable);
  }
}
