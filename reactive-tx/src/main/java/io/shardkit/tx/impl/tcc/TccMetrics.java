package io.shardkit.tx.impl.tcc;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardkit.tx.impl.trace.TxSpans;
import java.util.concurrent.TimeUnit;

/**
 * The TCC meters, under the same names and tag keys as XA's ({@code mode} = {@code tcc}), and the
 * TCC phase spans. Tags are bounded: mode, phase, result, outcome, decision; never ids.
 *
 * <ul>
 *   <li>{@code shardkit.tx.phase} (timer; mode = tcc, phase = try|confirm|cancel, result =
 *       applied|duplicate|empty_rollback|refused|failed): one participant phase call;
 *   <li>{@code shardkit.tx.transactions} (counter; mode = tcc, outcome =
 *       committed|cancelled|pending_commit|pending_cancel|unknown|refused): transactions the
 *       coordinator finished, and new ones admission control refused before their first step;
 *   <li>{@code shardkit.tx.in_flight} (gauge; mode = tcc): TCC and Saga transactions admitted and
 *       not yet finished ({@code TccOptions.maxInFlight} bounds it);
 *   <li>{@code shardkit.tx.retries} (counter; mode = tcc, phase = confirm|cancel): repeated
 *       attempts;
 *   <li>{@code shardkit.tx.recovered.transactions} (counter; mode = tcc, decision = commit|cancel):
 *       transactions recovery drove to the end;
 *   <li>{@code shardkit.tx.in.doubt} (gauge; mode = tcc): transactions the last recovery round
 *       claimed and could not finish (registered by the first recovery round).
 * </ul>
 */
final class TccMetrics {

  static final String MODE = "tcc";

  private static final System.Logger LOG = System.getLogger(TccMetrics.class.getName());

  private final MeterRegistry registry;
  private final TxSpans spans;
  private final java.util.List<io.shardkit.tx.spi.TransactionObserver> observers;
  private volatile java.util.concurrent.atomic.AtomicInteger inDoubt;

  TccMetrics(
      MeterRegistry registry,
      TxSpans spans,
      java.util.List<io.shardkit.tx.spi.TransactionObserver> observers) {
    this.registry = registry;
    this.spans = spans;
    this.observers = observers;
  }

  /** Tells every observer; a throw is logged and ignored (observers must not break protocols). */
  private void tell(java.util.function.Consumer<io.shardkit.tx.spi.TransactionObserver> event) {
    for (io.shardkit.tx.spi.TransactionObserver o : observers) {
      try {
        event.accept(o);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "transaction observer " + o + " failed", e);
      }
    }
  }

  TxSpans spans() {
    return spans;
  }

  void phase(String gid, String phase, String result, long startNanos) {
    phase(MODE, gid, phase, result, startNanos);
  }

  /** One phase of a protocol's participant ({@code mode} = tcc, saga, …). */
  void phase(String mode, String gid, String phase, String result, long startNanos) {
    boolean ok = !result.equals("failed") && !result.equals("refused");
    java.time.Duration took = java.time.Duration.ofNanos(System.nanoTime() - startNanos);
    tell(o -> o.phaseEnded(mode, gid, phase, took, ok));
    Timer.builder("shardkit.tx.phase")
        .description("Duration of one transaction phase")
        .tag("mode", mode)
        .tag("phase", phase)
        .tag("result", result)
        .register(registry)
        .record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    spans.phase(mode, gid, phase, startNanos, result, ok);
  }

  void outcome(String gid, String outcome) {
    outcome(MODE, gid, outcome);
  }

  /**
   * A transaction ended: {@code committed}, {@code cancelled}, {@code pending_commit}, {@code
   * pending_cancel} or {@code unknown}. Observers hear it as XA's outcomes (branches 0: TCC and
   * Saga branches are in the log row).
   */
  void outcome(String mode, String gid, String outcome) {
    io.shardkit.tx.spi.TransactionObserver.Outcome heard =
        switch (outcome) {
          case "committed" -> io.shardkit.tx.spi.TransactionObserver.Outcome.COMMITTED;
          case "pending_commit" -> io.shardkit.tx.spi.TransactionObserver.Outcome.PENDING;
          case "unknown" -> io.shardkit.tx.spi.TransactionObserver.Outcome.UNKNOWN;
          default -> io.shardkit.tx.spi.TransactionObserver.Outcome.ROLLED_BACK;
        };
    tell(o -> o.transactionEnded(mode, gid, heard, 0));
    countOutcome(mode, outcome);
  }

  /**
   * A new transaction refused by admission control before its first step: counted as outcome {@code
   * refused}; observers hear nothing (no transaction, no global id).
   */
  void refused(String mode) {
    countOutcome(mode, "refused");
  }

  private void countOutcome(String mode, String outcome) {
    Counter.builder("shardkit.tx.transactions")
        .description("Transactions by outcome")
        .tag("mode", mode)
        .tag("outcome", outcome)
        .register(registry)
        .increment();
  }

  void retry(String phase) {
    retry(MODE, phase);
  }

  void retry(String mode, String phase) {
    Counter.builder("shardkit.tx.retries")
        .description("Repeated confirm/cancel attempts")
        .tag("mode", mode)
        .tag("phase", phase)
        .register(registry)
        .increment();
  }

  /**
   * Recovery finished a transaction {@code latency} after its deadline (its claim's lag behind the
   * deadline on the log server's clock, plus the time recovery took to drive it).
   */
  void recoveryLatency(String mode, java.time.Duration latency) {
    Timer.builder("shardkit.tx.recovery.latency")
        .description("Time from a transaction's deadline to recovery finishing it")
        .tag("mode", mode)
        .register(registry)
        .record(latency);
  }

  /** A recovery round ended leaving {@code unfinished} claimed transactions for later. */
  void recoveryRound(int unfinished) {
    tell(o -> o.recoveryPassEnded(MODE, unfinished, 0));
    java.util.concurrent.atomic.AtomicInteger gauge = inDoubt;
    if (gauge == null) {
      synchronized (this) {
        if (inDoubt == null) {
          java.util.concurrent.atomic.AtomicInteger value =
              new java.util.concurrent.atomic.AtomicInteger();
          // The gauge follows the first coordinator of a registry that ran a recovery round
          // (README); registering it again would only log Micrometer's "already registered".
          if (registry.find("shardkit.tx.in.doubt").tag("mode", MODE).meter() == null) {
            io.micrometer.core.instrument.Gauge.builder(
                    "shardkit.tx.in.doubt", value, java.util.concurrent.atomic.AtomicInteger::get)
                .description(
                    "Left in doubt by the last recovery pass (xa: prepared branches, tcc:"
                        + " transactions)")
                .tag("mode", MODE)
                .register(registry);
          }
          inDoubt = value;
        }
        gauge = inDoubt;
      }
    }
    gauge.set(unfinished);
  }

  void recovered(String logDataSource, String decision) {
    recovered(MODE, logDataSource, decision);
  }

  /** Recovery finished a transaction whose row is on {@code logDataSource}. */
  void recovered(String mode, String logDataSource, String decision) {
    tell(
        o ->
            o.recovered(
                mode, logDataSource, decision.equals("commit") ? "commit" : "rollback", false));
    Counter.builder("shardkit.tx.recovered.transactions")
        .description("TCC transactions finished by recovery")
        .tag("mode", mode)
        .tag("decision", decision)
        .register(registry)
        .increment();
  }
}
