package io.shardkit.tx.impl.tcc;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * The {@code shardkit.tcc.*} meters, all in one place so tracing (spans per phase) can hook in here
 * later. Tags are bounded: phase, result, outcome, decision; never ids.
 *
 * <ul>
 *   <li>{@code shardkit.tcc.phase} (timer; phase = try|confirm|cancel, result =
 *       applied|duplicate|empty_rollback|refused|failed): one participant phase call;
 *   <li>{@code shardkit.tcc.transactions} (counter; outcome =
 *       committed|cancelled|pending_commit|pending_cancel|unknown): transactions the coordinator
 *       finished;
 *   <li>{@code shardkit.tcc.retries} (counter; phase = confirm|cancel): repeated attempts;
 *   <li>{@code shardkit.tcc.recovered} (counter; decision = commit|cancel): transactions recovery
 *       drove to the end.
 * </ul>
 */
final class TccMetrics {

  private final MeterRegistry registry;

  TccMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void phase(String phase, String result, long startNanos) {
    Timer.builder("shardkit.tcc.phase")
        .description("TCC participant phase calls")
        .tag("phase", phase)
        .tag("result", result)
        .register(registry)
        .record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  void outcome(String outcome) {
    Counter.builder("shardkit.tcc.transactions")
        .description("TCC global transactions by outcome")
        .tag("outcome", outcome)
        .register(registry)
        .increment();
  }

  void retry(String phase) {
    Counter.builder("shardkit.tcc.retries")
        .description("repeated TCC confirm/cancel attempts")
        .tag("phase", phase)
        .register(registry)
        .increment();
  }

  void recovered(String decision) {
    Counter.builder("shardkit.tcc.recovered")
        .description("TCC transactions finished by recovery")
        .tag("decision", decision)
        .register(registry)
        .increment();
  }
}
