package io.shardkit.tx.impl;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The one recovery loop: each pass at its own period, never overlapping itself, one stop. */
class RecoveryServiceTest {

  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A pass that takes {@code millis} and counts its runs and how many ran at once. */
  final class Counting {
    final AtomicInteger runs = new AtomicInteger();
    final AtomicInteger concurrent = new AtomicInteger();
    final AtomicInteger maxConcurrent = new AtomicInteger();
    final AtomicInteger ended = new AtomicInteger();
    final long millis;

    Counting(long millis) {
      this.millis = millis;
    }

    Future<?> run() {
      runs.incrementAndGet();
      maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
      Promise<Void> done = Promise.promise();
      vertx.setTimer(
          millis,
          id -> {
            concurrent.decrementAndGet();
            ended.incrementAndGet();
            done.complete();
          });
      return done.future();
    }
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void eachPassRunsAtItsOwnPeriodWithoutOverlappingItself() throws Exception {
    Counting fast = new Counting(10);
    Counting slow = new Counting(250); // slower than its period: must not overlap itself
    RecoveryService service =
        new RecoveryService(vertx)
            .pass("fast", fast::run, Duration.ofMillis(50))
            .pass("slow", slow::run, Duration.ofMillis(100));
    long began = System.nanoTime();
    // a next pass may begin as soon as the first has ended, even before this thread reads the
    // counters: start proves it waited by the first passes having ended, not by a count of runs
    await(service.start());
    assertThat(slow.ended.get()).as("start completes once its first passes ended").isPositive();
    assertThat(fast.ended.get()).isPositive();
    Thread.sleep(1_000);
    await(service.stop());
    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
    int fastRuns = fast.runs.get();
    int slowRuns = slow.runs.get();
    // never more often than its period (timers may come late on a loaded machine, never early)
    assertThat(fastRuns)
        .as("fast: one per 50 ms at most")
        .isBetween(3, (int) (elapsedMillis / 50) + 1);
    assertThat(slowRuns)
        .as("slow: at most one per 250 ms run")
        .isBetween(2, (int) (elapsedMillis / 250) + 1);
    assertThat(slow.maxConcurrent.get()).isEqualTo(1);
    assertThat(slow.concurrent.get()).as("stop waited for the pass in progress").isZero();
    Thread.sleep(300);
    assertThat(fast.runs.get()).as("nothing after stop").isEqualTo(fastRuns);
    assertThat(slow.runs.get()).isEqualTo(slowRuns);
  }

  @Test
  void aFailingPassDoesNotStopTheService() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    RecoveryService service =
        new RecoveryService(vertx)
            .pass(
                "failing",
                () -> {
                  runs.incrementAndGet();
                  throw new IllegalStateException("shard down");
                },
                Duration.ofMillis(50));
    await(service.start());
    Thread.sleep(400);
    await(service.stop());
    assertThat(runs.get()).isGreaterThan(3);
  }
}
