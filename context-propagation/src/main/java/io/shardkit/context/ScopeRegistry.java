package io.shardkit.context;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The leak guard's ledger: every open scope, every resource pinned to a scope and every pending
 * deadline timer, with the scope that owns each. Obtain it with {@link TxScope#registry()}.
 *
 * <p>There is one registry per class loader (so one per JVM in practice), shared by every {@code
 * Vertx} instance. That makes "nothing is left open" a single assertion across modules and test
 * classes ({@code io.shardkit.context.junit.LeakGuardExtension} makes it after every test), and the
 * gauges a single series per process. Scopes of a {@code Vertx} that is closed while they are open
 * stay counted: that is a leak, and the guard reports it.
 *
 * <p>Counts are updated before the caller's future completes, so a caller that has seen every
 * result can assert {@link #isIdle()} at once.
 *
 * <h2>Meters</h2>
 *
 * Bound to {@link io.micrometer.core.instrument.Metrics#globalRegistry} when the registry is
 * created, and to any other registry given to {@link #bindTo}:
 *
 * <ul>
 *   <li>{@code shardkit.scopes.open} (gauge): scopes opened by {@link TxScope#run} and not closed;
 *   <li>{@code shardkit.scopes.pinned} (gauge): resources pinned to an open scope;
 *   <li>{@code shardkit.scopes.timers} (gauge): pending deadline timers (one per open scope, one
 *       per {@link TxScope#bound} call made outside an owning scope);
 *   <li>{@code shardkit.scopes.timeouts} (function counter): scopes closed by their deadline;
 *   <li>{@code shardkit.scopes.forced.releases} (function counter): pinned resources released by a
 *       scope's close rather than by their owner (each one is a bug, or a timeout).
 * </ul>
 */
public interface ScopeRegistry extends MeterBinder {

  /** Scopes opened by {@link TxScope#run} and not yet closed. */
  int openScopes();

  /** Resources pinned to an open scope and not yet released. */
  int pinnedResources();

  /** Deadline timers not yet fired or cancelled. */
  int pendingTimers();

  /** Whether open scopes, pinned resources and pending timers are all zero. */
  default boolean isIdle() {
    return openScopes() == 0 && pinnedResources() == 0 && pendingTimers() == 0;
  }

  /** Scopes closed by their deadline since the registry was created. */
  long timedOutScopes();

  /** Pinned resources released by their scope's close rather than by their owner. */
  long forcedReleases();

  /** What is open right now, oldest first: which scope owns which resources. */
  List<OpenScope> snapshot();

  /**
   * A human-readable account of what is open: the three counts, then one line per open scope
   * (global id, age, time left, pinned resources by kind), at most 50 lines.
   */
  String describe();

  /**
   * Closes every open scope and cancels every pending timer, as if their deadline had passed now:
   * pinned resources are released and the scopes' callers fail with a {@link ShardkitException}
   * carrying {@code reason}. Meant for test harnesses that must not let one test's leak fail the
   * next; never needed in an application.
   *
   * @return how many scopes and standalone timers were closed
   */
  int forceCloseAll(String reason);

  /** Binds the gauges and counters listed above to {@code registry}. */
  @Override
  void bindTo(MeterRegistry registry);

  /**
   * One open scope as seen by {@link #snapshot()}.
   *
   * @param globalId the scope's global id
   * @param branchId the scope's branch id, or null
   * @param age how long the scope has been open
   * @param remaining time left before its deadline (zero if past)
   * @param pinned pinned resources by kind
   * @param openChildren nested scopes still open
   */
  record OpenScope(
      String globalId,
      String branchId,
      Duration age,
      Duration remaining,
      Map<String, Integer> pinned,
      int openChildren) {}
}
