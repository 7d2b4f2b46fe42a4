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

  /** Parks the event loop for 0.5 s: a waiting thread fails at the first warning. */
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
          .contains("TIMED_WAITING")
          .contains("blockTheEventLoop");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      BlockedThreadGuardExtension.drain();
    }
  }

  @Test
  void aSleepIsABlockButClassLoadingIsWarmUp() {
    StackTraceElement app = new StackTraceElement("io.shardkit.App", "handle", "App.java", 1);
    StackTraceElement sleep = new StackTraceElement("java.lang.Thread", "sleep", null, -1);
    StackTraceElement park = new StackTraceElement("jdk.internal.misc.Unsafe", "park", null, -1);
    StackTraceElement load =
        new StackTraceElement("java.lang.ClassLoader", "loadClass", "ClassLoader.java", 1);
    StackTraceElement reflect =
        new StackTraceElement("java.lang.Class", "getMethod", "Class.java", 1);
    StackTraceElement init = new StackTraceElement("io.shardkit.App", "<clinit>", "App.java", 1);

    assertThat(BlockedThreadGuardExtension.warmingUp(new StackTraceElement[] {sleep, app}))
        .isFalse();
    assertThat(BlockedThreadGuardExtension.warmingUp(new StackTraceElement[] {park, app}))
        .isFalse();
    assertThat(BlockedThreadGuardExtension.warmingUp(new StackTraceElement[] {app})).isFalse();
    assertThat(BlockedThreadGuardExtension.warmingUp(new StackTraceElement[] {load, app})).isTrue();
    assertThat(BlockedThreadGuardExtension.warmingUp(new StackTraceElement[] {reflect, app}))
        .isTrue();
    assertThat(BlockedThreadGuardExtension.warmingUp(new StackTraceElement[] {sleep, init}))
        .isTrue();
    // JaCoCo's per-class probe set-up on a class's first use (seen in a Jackson serializer's first
    // build on an event loop under the agent)
    StackTraceElement probes =
        new StackTraceElement("com.fasterxml.Lib", "$jacocoInit", "Lib.java", -1);
    assertThat(BlockedThreadGuardExtension.warmingUp(new StackTraceElement[] {probes, app}))
        .isTrue();
    // Class loading below application code is not what the thread is doing now.
    assertThat(BlockedThreadGuardExtension.warmingUp(new StackTraceElement[] {sleep, app, load}))
        .isFalse();
  }

  private static void blockTheEventLoop() {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
    for (long left = until - System.nanoTime(); left > 0; left = until - System.nanoTime()) {
      LockSupport.parkNanos(left);
    }
  }

  @Test
  void waitingFailsAtOnceBusyOnlyAfterTwoSeconds() {
    StackTraceElement app = new StackTraceElement("io.shardkit.App", "handle", "App.java", 1);
    StackTraceElement read =
        new StackTraceElement("sun.nio.ch.SocketDispatcher", "read0", null, -1);
    StackTraceElement load =
        new StackTraceElement("java.lang.ClassLoader", "loadClass", "ClassLoader.java", 1);

    assertThat(
            BlockedThreadGuardExtension.kind(
                Thread.State.TIMED_WAITING, new StackTraceElement[] {app}))
        .isEqualTo("waiting");
    assertThat(
            BlockedThreadGuardExtension.kind(Thread.State.BLOCKED, new StackTraceElement[] {app}))
        .isEqualTo("waiting");
    assertThat(
            BlockedThreadGuardExtension.kind(
                Thread.State.RUNNABLE, new StackTraceElement[] {read, app}))
        .isEqualTo("waiting");
    assertThat(
            BlockedThreadGuardExtension.kind(Thread.State.RUNNABLE, new StackTraceElement[] {app}))
        .isEqualTo("busy");
    assertThat(
            BlockedThreadGuardExtension.kind(
                Thread.State.BLOCKED, new StackTraceElement[] {load, app}))
        .isEqualTo("warm-up");
    assertThat(BlockedThreadGuardExtension.BUSY_FAIL_MILLIS).isEqualTo(2_000);
  }
}
