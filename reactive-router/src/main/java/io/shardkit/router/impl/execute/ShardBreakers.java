package io.shardkit.router.impl.execute;

import io.shardkit.router.CircuitBreakerOptions;
import io.shardkit.router.ShardCircuitBreaker;
import io.shardkit.router.ShardCircuitOpenException;
import io.shardkit.router.ShardUnavailableException;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.DatabaseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The breakers of a pool's data sources, and how a statement uses them: one call per data source it
 * touches, all taken before any I/O (so a statement that needs an open shard fails before running
 * anywhere), each ended when every unit on that data source ended.
 */
final class ShardBreakers {

  /** A breaker that never opens (breaking disabled). */
  private static final class AlwaysClosed implements ShardCircuitBreaker {
    private final String dataSource;

    AlwaysClosed(String dataSource) {
      this.dataSource = dataSource;
    }

    @Override
    public String dataSource() {
      return dataSource;
    }

    @Override
    public State state() {
      return State.CLOSED;
    }

    @Override
    public void checkAvailable() {}
  }

  private final Map<String, ShardCircuitBreaker> breakers;
  private final boolean enabled;
  private final Vertx vertx;
  private final long sweeper;

  ShardBreakers(
      Vertx vertx, Set<String> dataSources, CircuitBreakerOptions options, RouterMetrics metrics) {
    this.vertx = vertx;
    this.enabled = options.enabled();
    Map<String, ShardCircuitBreaker> all = new LinkedHashMap<>();
    for (String ds : dataSources) {
      all.put(
          ds,
          enabled
              ? new ShardBreaker(ds, options, System::nanoTime, metrics)
              : new AlwaysClosed(ds));
    }
    this.breakers = Collections.unmodifiableMap(all);
    metrics.breakers(this.breakers.values());
    long slowMillis = options.slowCallDuration().toMillis();
    if (enabled && slowMillis > 0) {
      // One timer for the pool marks slow calls, a tenth of the slow-call duration late at most
      // (a timer per statement cost ~8 % of routed point-select throughput).
      this.sweeper = vertx.setPeriodic(Math.max(10, slowMillis / 10), id -> sweep());
    } else {
      this.sweeper = -1;
    }
  }

  private void sweep() {
    for (ShardCircuitBreaker breaker : breakers.values()) {
      ((ShardBreaker) breaker).sweep();
    }
  }

  /** Stops the slow-call sweep (the pool is closing). */
  void close() {
    if (sweeper >= 0) {
      vertx.cancelTimer(sweeper);
    }
  }

  ShardCircuitBreaker get(String dataSource) {
    ShardCircuitBreaker breaker = breakers.get(dataSource);
    if (breaker == null) {
      throw new IllegalArgumentException(
          "unknown data source " + dataSource + " (known: " + breakers.keySet() + ")");
    }
    return breaker;
  }

  /** Refuses (throws) when any of the units' data sources must not take new work; no slot taken. */
  void checkAvailable(List<SqlUnit> units) {
    if (!enabled) {
      return;
    }
    for (SqlUnit unit : units) {
      breakers.get(unit.dataSource()).checkAvailable();
    }
  }

  /**
   * One call per distinct data source of {@code units}; throws {@link ShardCircuitOpenException}
   * (having released what it took) when one is refused. Null when breaking is disabled.
   */
  Map<String, ShardBreaker.Call> start(List<SqlUnit> units, boolean gated) {
    if (!enabled) {
      return null;
    }
    if (units.size() == 1) {
      String ds = units.get(0).dataSource(); // one unit: its call alone, refused or not
      return Map.of(ds, ((ShardBreaker) breakers.get(ds)).start(gated));
    }
    Map<String, ShardBreaker.Call> calls = new LinkedHashMap<>(4);
    try {
      for (SqlUnit unit : units) {
        String ds = unit.dataSource();
        if (!calls.containsKey(ds)) {
          calls.put(ds, ((ShardBreaker) breakers.get(ds)).start(gated));
        }
      }
    } catch (RuntimeException refused) {
      calls.values().forEach(ShardBreaker.Call::abandon);
      throw refused;
    }
    return calls;
  }

  /** Ends the one data source's call when its one unit's future has completed. */
  static void end(Map<String, ShardBreaker.Call> calls, String dataSource, Future<?> result) {
    if (calls == null) {
      return;
    }
    ShardBreaker.Call call = calls.get(dataSource);
    result.onComplete(ar -> end(call, ar.failed() ? ar.cause() : null, ar));
  }

  /** Ends each data source's call when all of its units' futures have completed. */
  static void end(
      Map<String, ShardBreaker.Call> calls,
      List<String> dataSources,
      List<? extends Future<?>> results) {
    if (calls == null) {
      return;
    }
    if (calls.size() == results.size()) {
      for (int i = 0; i < results.size(); i++) {
        ShardBreaker.Call call = calls.get(dataSources.get(i));
        results.get(i).onComplete(ar -> end(call, ar.failed() ? ar.cause() : null, ar));
      }
      return;
    }
    Map<String, List<Future<?>>> byDs = new LinkedHashMap<>();
    for (int i = 0; i < results.size(); i++) {
      byDs.computeIfAbsent(dataSources.get(i), k -> new ArrayList<>()).add(results.get(i));
    }
    byDs.forEach(
        (ds, futures) ->
            Future.join(futures)
                .onComplete(
                    ar -> {
                      boolean failed = false;
                      Throwable refused = null;
                      for (Future<?> f : futures) {
                        failed |= isHealthFailure(f);
                        if (f.failed() && notSent(f.cause())) {
                          refused = f.cause();
                        }
                      }
                      if (refused != null && !failed) {
                        calls.get(ds).abandon();
                      } else {
                        calls.get(ds).end(failed);
                      }
                    }));
  }

  /**
   * A unit refused by the breaker itself (a transaction's enlistment), or not sent because its
   * deadline passed while it waited for a connection, is no evidence: abandoned.
   */
  private static void end(ShardBreaker.Call call, Throwable failure, AsyncResult<?> ar) {
    if (notSent(failure)) {
      call.abandon();
    } else {
      call.end(isHealthFailure(ar));
    }
  }

  private static boolean notSent(Throwable failure) {
    return failure instanceof ShardCircuitOpenException
        || failure instanceof StatementCancel.DeadlinePassed;
  }

  /**
   * Whether a failure says the shard did not answer (it counts against the breaker), as opposed to
   * an error the server answered (SQL errors count as successes).
   */
  static boolean isHealthFailure(AsyncResult<?> ar) {
    if (ar.succeeded()) {
      return false;
    }
    for (Throwable t = ar.cause(); t != null; t = t.getCause()) {
      if (t instanceof ShardCircuitOpenException
          || t instanceof io.shardkit.router.ShardOverloadedException
          || t instanceof io.vertx.core.http.ConnectionPoolTooBusyException) {
        // refused here, never sent: the shard is not at fault (opening its breaker on local
        // saturation would turn an overload into an outage)
        return false;
      }
      if (t instanceof DatabaseException db) {
        return db.getErrorCode() == 1040 || db.getErrorCode() == 1053;
      }
      if (t instanceof ShardUnavailableException
          || t instanceof ClosedConnectionException
          || t instanceof java.io.IOException
          || t instanceof java.util.concurrent.TimeoutException
          || t.getClass().getSimpleName().contains("Timeout")) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }
}
