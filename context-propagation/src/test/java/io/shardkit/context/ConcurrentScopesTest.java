package io.shardkit.context;

import static io.shardkit.context.TestSupport.await;
import static io.shardkit.context.TestSupport.never;
import static io.shardkit.context.TestSupport.onEventLoop;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakGuardExtension.class)
class ConcurrentScopesTest {

  private Vertx vertx;

  @BeforeEach
  void startVertx() {
    vertx = TestSupport.vertx();
  }

  @AfterEach
  void closeVertx() throws Exception {
    TestSupport.close(vertx);
  }

  /**
   * 10,000 scopes at once, each pinning a resource; one in ten never completes and must time out.
   * Afterwards every resource was released exactly once and the registry is empty.
   */
  @Test
  void tenThousandScopesWithATenthTimingOutLeaveNothingOpen() throws Exception {
    int expectedScopes = 10_000;
    int expectedTimeouts = expectedScopes / 10;
    AtomicInteger releases = new AtomicInteger();
    AtomicInteger maxOpenSeen = new AtomicInteger();
    long timeoutsBefore = TxScope.registry().timedOutScopes();

    ConcurrentLinkedQueue<Future<Object>> scopes = new ConcurrentLinkedQueue<>();
    List<Future<Void>> starters = new ArrayList<>();
    int batches = 40;
    for (int batch = 0; batch < batches; batch++) {
      int first = batch * expectedScopes / batches;
      int last = (batch + 1) * expectedScopes / batches;
      // Start from all event loops at once (each new context takes the next loop), so scopes open
      // and close concurrently; in batches of 250, so that no event-loop task runs long enough to
      // block its loop (2,500 per task took over 200 ms on a busy 2-core machine).
      starters.add(
          onEventLoop(
              vertx,
              () -> {
                for (int i = first; i < last; i++) {
                  scopes.add(startScope(i, releases, maxOpenSeen));
                }
                return Future.succeededFuture();
              }));
    }
    await(Future.all(starters));
    await(Future.join(new ArrayList<>(scopes)).otherwiseEmpty());

    long actualSucceeded = scopes.stream().filter(Future::succeeded).count();
    long actualTimeouts =
        scopes.stream()
            .filter(f -> f.failed() && f.cause() instanceof ShardkitTimeoutException)
            .count();

    assertThat(scopes).hasSize(expectedScopes);
    assertThat(actualSucceeded).isEqualTo(expectedScopes - expectedTimeouts);
    assertThat(TxScope.registry().timedOutScopes() - timeoutsBefore).isEqualTo(expectedTimeouts);
    assertThat(actualTimeouts).isEqualTo(expectedTimeouts);
    assertThat(releases).hasValue(expectedScopes);
    assertThat(maxOpenSeen.get()).isGreaterThan(expectedTimeouts);
    assertThat(TxScope.registry().openScopes()).isZero();
    assertThat(TxScope.registry().pinnedResources()).isZero();
    assertThat(TxScope.registry().pendingTimers()).isZero();
  }

  private Future<Object> startScope(int i, AtomicInteger releases, AtomicInteger maxOpenSeen) {
    boolean stuck = i % 10 == 0;
    return TxScope.run(
        vertx,
        ScopeOptions.ofTimeout(Duration.ofMillis(stuck ? 300 : 5_000)),
        () -> {
          Pin pin =
              TxScope.pin(
                  "connection",
                  () -> {
                    releases.incrementAndGet();
                    return Future.succeededFuture();
                  });
          maxOpenSeen.accumulateAndGet(TxScope.registry().openScopes(), Math::max);
          if (stuck) {
            return never();
          }
          Promise<Object> done = Promise.promise();
          vertx.setTimer(
              1 + ThreadLocalRandom.current().nextInt(50),
              id -> pin.release().onComplete(ar -> done.complete(i)));
          return done.future();
        });
  }

  /**
   * Two scopes on the same event loop, interleaving their callbacks step by step: each callback
   * must see its own scope's global id, never the other's.
   */
  @Test
  void twoConcurrentScopesOnOneEventLoopNeverSeeEachOthersValues() throws Exception {
    int steps = 200;
    ConcurrentLinkedQueue<String> mismatches = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
    Context eventLoop = vertx.getOrCreateContext();
    Promise<Void> both = Promise.promise();

    eventLoop.runOnContext(
        v -> {
          Future<Void> first = walk("scope-A", steps, order, mismatches);
          Future<Void> second = walk("scope-B", steps, order, mismatches);
          Future.all(first, second).<Void>mapEmpty().onComplete(both);
          if (TxScope.current().isPresent()) {
            mismatches.add("root context sees " + TxScope.current().get().globalId());
          }
        });
    await(both.future());

    assertThat(mismatches).isEmpty();
    assertThat(order).hasSize(2 * steps);
    assertThat(interleavings(order)).isGreaterThan(steps / 2);
  }

  private Future<Void> walk(
      String globalId,
      int steps,
      ConcurrentLinkedQueue<String> order,
      ConcurrentLinkedQueue<String> mismatches) {
    Thread eventLoopThread = Thread.currentThread();
    return TxScope.run(
        vertx,
        ScopeOptions.builder().globalId(globalId).timeout(Duration.ofSeconds(10)).build(),
        () -> step(globalId, steps, eventLoopThread, order, mismatches));
  }

  private Future<Void> step(
      String expectedGid,
      int remaining,
      Thread eventLoopThread,
      ConcurrentLinkedQueue<String> order,
      ConcurrentLinkedQueue<String> mismatches) {
    if (remaining == 0) {
      return Future.succeededFuture();
    }
    Promise<Void> next = Promise.promise();
    // runOnContext queues behind the other scope's pending task: the two walks alternate.
    Vertx.currentContext()
        .runOnContext(
            v -> {
              String actualGid = TxScope.current().map(TxContext::globalId).orElse("none");
              order.add(actualGid);
              if (!actualGid.equals(expectedGid) || Thread.currentThread() != eventLoopThread) {
                mismatches.add(expectedGid + " saw " + actualGid);
              }
              step(expectedGid, remaining - 1, eventLoopThread, order, mismatches).onComplete(next);
            });
    return next.future();
  }

  private static int interleavings(ConcurrentLinkedQueue<String> order) {
    int switches = 0;
    String previous = null;
    for (String gid : order) {
      if (previous != null && !previous.equals(gid)) {
        switches++;
      }
      previous = gid;
    }
    return switches;
  }
}
