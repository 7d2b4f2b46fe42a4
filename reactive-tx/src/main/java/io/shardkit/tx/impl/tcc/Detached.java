package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxScope;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs work in a top-level scope, detached from whatever scope the caller is in.
 *
 * <p>Why: once a TCC transaction has decided, its confirms and cancels must run to the end even
 * though the transaction's own scope is closed (often because its deadline passed: that is why it
 * is cancelling) and even if the caller's enclosing request scope closes. A scope opened from a
 * context that carries a scope would be nested in it and share its deadline, so the work is started
 * from the root (event-loop) context underneath the current one, which never carries a scope. Each
 * detached scope still has its own deadline: nothing runs unbounded. This is the only class of the
 * TCC implementation that touches Vert.x internals.
 */
final class Detached {

  private Detached() {}

  /** Detached work still running, per Vert.x instance (for {@link #drain}). */
  private static final Map<Vertx, Set<Future<?>>> RUNNING =
      Collections.synchronizedMap(new WeakHashMap<>());

  static <T> Future<T> run(Vertx vertx, ScopeOptions options, Supplier<Future<T>> body) {
    ContextInternal root = ((ContextInternal) vertx.getOrCreateContext()).unwrap();
    Promise<T> promise = root.promise();
    Future<T> future = promise.future();
    Set<Future<?>> running = RUNNING.computeIfAbsent(vertx, k -> ConcurrentHashMap.newKeySet());
    running.add(future);
    future.onComplete(ar -> running.remove(future));
    root.runOnContext(v -> TxScope.run(vertx, options, body).onComplete(promise));
    return future;
  }

  /**
   * Completes once no detached work of {@code vertx} is running (work started meanwhile, such as a
   * retry, included), or when {@code bound} has passed; never fails. What is still running then is
   * what recovery finishes anyway: every detached step is idempotent and logged.
   */
  static Future<Void> drain(Vertx vertx, Duration bound) {
    return drain(vertx, System.nanoTime() + bound.toNanos());
  }

  private static Future<Void> drain(Vertx vertx, long endNanos) {
    Set<Future<?>> running = RUNNING.get(vertx);
    List<Future<?>> now = running == null ? List.of() : List.copyOf(running);
    long left = endNanos - System.nanoTime();
    if (now.isEmpty() || left <= 0) {
      return Future.succeededFuture();
    }
    return Future.join(now)
        .timeout(left, TimeUnit.NANOSECONDS)
        .transform(ar -> drainAgain(vertx, endNanos));
  }

  private static Future<Void> drainAgain(Vertx vertx, long endNanos) {
    return System.nanoTime() < endNanos ? drain(vertx, endNanos) : Future.succeededFuture();
  }
}
