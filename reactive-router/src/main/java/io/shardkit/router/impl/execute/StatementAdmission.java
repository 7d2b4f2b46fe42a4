package io.shardkit.router.impl.execute;

import io.shardkit.router.PoolOverloadedException;
import io.vertx.core.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission control of a pool's statements: at most {@code limit} in flight (0: no limit, only
 * counted). Checked before a statement is parsed or routed, so a refusal costs a compare-and-set
 * and an exception without a stack trace, not a plan lookup, a route and a pool's refusal. A
 * statement of an open connection or transaction is counted ({@link #enter}) but never refused:
 * work already started goes first.
 */
final class StatementAdmission {

  private final int limit;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final RouterMetrics metrics;

  StatementAdmission(int limit, RouterMetrics metrics) {
    this.limit = limit;
    this.metrics = metrics;
    metrics.inFlight(inFlight);
  }

  /**
   * Counts one statement in; false (nothing counted) when {@code refusable} and the limit is
   * reached.
   */
  boolean tryEnter(boolean refusable) {
    if (!refusable || limit <= 0) {
      inFlight.incrementAndGet();
      return true;
    }
    while (true) {
      int now = inFlight.get();
      if (now >= limit) {
        metrics.overloaded();
        return false;
      }
      if (inFlight.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** The failed future a refused statement gets. */
  <T> Future<T> refused() {
    return Future.failedFuture(new PoolOverloadedException(limit));
  }

  /** Counts one statement out. */
  void exit() {
    inFlight.decrementAndGet();
  }

  /** Counts one statement out when {@code done} completes, whatever its outcome. */
  <T> Future<T> exitWhen(Future<T> done) {
    // the first listener: the count is down before the caller hears back
    done.onComplete(ar -> inFlight.decrementAndGet());
    return done;
  }

  int limit() {
    return limit;
  }

  int inFlight() {
    return inFlight.get();
  }
}
