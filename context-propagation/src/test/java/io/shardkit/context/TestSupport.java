package io.shardkit.context;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/** Helpers for tests: a Vert.x with a short blocked-thread warning, and blocking waits. */
final class TestSupport {

  private TestSupport() {}

  static Vertx vertx() {
    return Vertx.vertx(
        new VertxOptions()
            .setBlockedThreadCheckInterval(200)
            .setMaxEventLoopExecuteTime(200)
            .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
  }

  static void close(Vertx vertx) throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Waits (on the test thread) for {@code future} and returns its value. */
  static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected success, got " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within 10 s", e);
    }
  }

  /** Waits (on the test thread) for {@code future} to fail and returns the failure. */
  static Throwable awaitFailure(Future<?> future) throws Exception {
    try {
      Object value = future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + value);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within 10 s", e);
    }
  }

  /** Runs {@code action} on a fresh event-loop (root) context of {@code vertx}. */
  static <T> Future<T> onEventLoop(Vertx vertx, Supplier<Future<T>> action) {
    Context context = vertx.getOrCreateContext();
    Promise<T> promise = Promise.promise();
    context.runOnContext(
        v -> {
          try {
            action.get().onComplete(promise);
          } catch (Throwable t) {
            promise.fail(t);
          }
        });
    return promise.future();
  }

  /** A future that never completes. */
  static <T> Future<T> never() {
    return Promise.<T>promise().future();
  }
}
