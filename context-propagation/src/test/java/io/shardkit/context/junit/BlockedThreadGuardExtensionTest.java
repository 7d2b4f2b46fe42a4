package io.shardkit.context.junit;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The guard is registered for every test of this module (test resources); here it must see a
 * deliberately blocked event loop, with the stack of the blocking call. The test takes the warning
 * itself, so the guard's own check after it finds nothing.
 */
class BlockedThreadGuardExtensionTest {

  @Test
  void reportsABlockedEventLoopWithTheBlockingStack() throws Exception {
    Vertx vertx =
        Vertx.vertx(
            new VertxOptions()
                .setBlockedThreadCheckInterval(50)
                .setMaxEventLoopExecuteTime(100)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
    try {
      CountDownLatch done = new CountDownLatch(1);
      vertx.runOnContext(
          v -> {
            blockTheEventLoop();
            done.countDown();
          });
      assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
      List<String> actual = List.of();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (actual.isEmpty() && System.nanoTime() < until) {
        Thread.sleep(20);
        actual = BlockedThreadGuardExtension.drain();
      }

      assertThat(actual).isNotEmpty();
      assertThat(actual.get(0))
          .contains("vert.x-eventloop-thread-0")
          .contains("has been blocked")
          .contains("blockTheEventLoop");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      BlockedThreadGuardExtension.drain();
    }
  }

  private static void blockTheEventLoop() {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(600);
    while (System.nanoTime() < until) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }
}
