package io.shardkit.tx.impl.tcc;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.ScopeOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code Transactions.close()} drains detached work (second phases and done marks of answered
 * transactions) before it closes anything: {@link Detached#drain} waits for it, including work
 * started while it waits, and stops waiting at its bound.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.shardkit.context.junit.LeakGuardExtension.class)
class DetachedTest {

  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  Future<Void> after(long millis) {
    Promise<Void> done = Promise.promise();
    vertx.setTimer(millis, id -> done.complete());
    return done.future();
  }

  long millisOf(Future<Void> future) throws Exception {
    long start = System.nanoTime();
    future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return (System.nanoTime() - start) / 1_000_000;
  }

  @Test
  void drainWaitsForRunningWorkAndForWorkItStartsMeanwhile() throws Exception {
    ScopeOptions scope = ScopeOptions.ofTimeout(Duration.ofSeconds(5));
    // 300 ms of work, which then starts 300 ms more (a retry, a done mark)
    Detached.run(
        vertx,
        scope,
        () -> after(300).onSuccess(v -> Detached.run(vertx, scope, () -> after(300))));
    long actual = millisOf(Detached.drain(vertx, Duration.ofSeconds(5)));
    assertThat(actual).isBetween(550L, 3_000L);
    assertThat(millisOf(Detached.drain(vertx, Duration.ofSeconds(5))))
        .as("nothing left")
        .isLessThan(100);
  }

  @Test
  void drainStopsWaitingAtItsBound() throws Exception {
    Future<Void> work =
        Detached.run(vertx, ScopeOptions.ofTimeout(Duration.ofSeconds(10)), () -> after(1_500));
    long actual = millisOf(Detached.drain(vertx, Duration.ofMillis(400)));
    assertThat(actual).isBetween(350L, 1_200L);
    millisOf(work); // ends its scope before this Vert.x closes (no scope left to other tests)
  }

  @Test
  void drainOfAnotherVertxDoesNotWait() throws Exception {
    Future<Void> work =
        Detached.run(vertx, ScopeOptions.ofTimeout(Duration.ofSeconds(10)), () -> after(1_000));
    Vertx other = Vertx.vertx();
    try {
      assertThat(millisOf(Detached.drain(other, Duration.ofSeconds(5)))).isLessThan(200);
    } finally {
      other.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    millisOf(work);
  }
}
