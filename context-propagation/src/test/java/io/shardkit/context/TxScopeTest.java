package io.shardkit.context;

import static io.shardkit.context.TestSupport.await;
import static io.shardkit.context.TestSupport.awaitFailure;
import static io.shardkit.context.TestSupport.never;
import static io.shardkit.context.TestSupport.onEventLoop;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakGuardExtension.class)
class TxScopeTest {

  private Vertx vertx;

  @BeforeEach
  void startVertx() {
    vertx = TestSupport.vertx();
  }

  @AfterEach
  void closeVertx() throws Exception {
    TestSupport.close(vertx);
  }

  @Test
  void bodySeesItsContextOnADuplicatedContextAndTheRootContextStaysClean() throws Exception {
    AtomicReference<Context> rootContext = new AtomicReference<>();
    AtomicReference<Context> bodyContext = new AtomicReference<>();
    AtomicReference<Context> resultContext = new AtomicReference<>();
    AtomicReference<TxContext> seenInCallback = new AtomicReference<>();

    TxContext actual =
        await(
            onEventLoop(
                vertx,
                () -> {
                  rootContext.set(Vertx.currentContext());
                  return TxScope.run(
                          vertx,
                          ScopeOptions.ofTimeout(Duration.ofSeconds(5)),
                          () -> {
                            bodyContext.set(Vertx.currentContext());
                            Promise<TxContext> later = Promise.promise();
                            vertx.setTimer(
                                5,
                                id -> {
                                  seenInCallback.set(TxScope.current().orElse(null));
                                  later.complete(TxScope.current().orElseThrow());
                                });
                            return later.future();
                          })
                      .andThen(
                          ar -> {
                            resultContext.set(Vertx.currentContext());
                            assertThat(TxScope.current()).isEmpty();
                          });
                }));

    assertThat(actual.globalId()).hasSize(26);
    assertThat(seenInCallback.get()).isSameAs(actual);
    assertThat(bodyContext.get()).isNotSameAs(rootContext.get());
    assertThat(resultContext.get()).isSameAs(rootContext.get());
    assertThat(actual.deadline().remaining()).isLessThanOrEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void runFromOutsideVertxCreatesAContext() throws Exception {
    AtomicReference<String> threadName = new AtomicReference<>();

    String actualGid =
        await(
            TxScope.run(
                vertx,
                ScopeOptions.builder().globalId("outside-1").build(),
                () -> {
                  threadName.set(Thread.currentThread().getName());
                  return Future.succeededFuture(TxScope.current().orElseThrow().globalId());
                }));

    assertThat(actualGid).isEqualTo("outside-1");
    assertThat(threadName.get()).contains("eventloop");
    assertThat(TxScope.current()).isEmpty();
  }

  @Test
  void nestedScopeInheritsIdAndNeverExtendsTheDeadline() throws Exception {
    AtomicReference<TxContext> outer = new AtomicReference<>();

    TxContext[] actual =
        await(
            TxScope.run(
                vertx,
                ScopeOptions.builder()
                    .timeout(Duration.ofMillis(800))
                    .branchId("ds_0")
                    .routingHint(RoutingHint.forceDataSource("ds_0"))
                    .build(),
                () -> {
                  outer.set(TxScope.current().orElseThrow());
                  Future<TxContext> longer =
                      TxScope.run(
                          vertx,
                          ScopeOptions.ofTimeout(Duration.ofSeconds(60)),
                          () -> Future.succeededFuture(TxScope.current().orElseThrow()));
                  Future<TxContext> shorter =
                      longer.compose(
                          x ->
                              TxScope.run(
                                  vertx,
                                  ScopeOptions.ofTimeout(Duration.ofMillis(50)),
                                  () -> Future.succeededFuture(TxScope.current().orElseThrow())));
                  Future<TxContext> independent =
                      shorter.compose(
                          x ->
                              TxScope.run(
                                  vertx,
                                  ScopeOptions.builder()
                                      .newGlobalId()
                                      .timeout(Duration.ofSeconds(60))
                                      .build(),
                                  () -> Future.succeededFuture(TxScope.current().orElseThrow())));
                  return Future.all(longer, shorter, independent)
                      .map(
                          all ->
                              new TxContext[] {
                                longer.result(), shorter.result(), independent.result()
                              });
                }));

    TxContext expectedOuter = outer.get();
    TxContext longer = actual[0];
    TxContext shorter = actual[1];
    TxContext independent = actual[2];
    assertThat(longer.globalId()).isEqualTo(expectedOuter.globalId());
    assertThat(longer.branchId()).contains("ds_0");
    assertThat(longer.routingHint()).isEqualTo(expectedOuter.routingHint());
    assertThat(longer.deadline()).isEqualTo(expectedOuter.deadline());
    assertThat(shorter.globalId()).isEqualTo(expectedOuter.globalId());
    assertThat(shorter.deadline().isBefore(expectedOuter.deadline())).isTrue();
    assertThat(independent.globalId()).isNotEqualTo(expectedOuter.globalId());
    assertThat(independent.branchId()).isEmpty();
    assertThat(independent.deadline()).isEqualTo(expectedOuter.deadline());
  }

  @Test
  void bodyThatNeverCompletesFailsTheCallerAtTheDeadlineWithTheTypedError() throws Exception {
    Duration expectedTimeout = Duration.ofMillis(150);
    AtomicInteger releases = new AtomicInteger();
    long start = System.nanoTime();

    Throwable actual =
        awaitFailure(
            TxScope.run(
                vertx,
                ScopeOptions.builder().globalId("stuck-1").timeout(expectedTimeout).build(),
                () -> {
                  TxScope.pin(
                      "connection",
                      () -> {
                        releases.incrementAndGet();
                        return Future.succeededFuture();
                      });
                  return never();
                }));
    Duration actualWait = Duration.ofNanos(System.nanoTime() - start);

    assertThat(actual).isInstanceOf(ShardkitTimeoutException.class);
    ShardkitTimeoutException timeout = (ShardkitTimeoutException) actual;
    assertThat(timeout.globalId()).isEqualTo("stuck-1");
    assertThat(timeout.timeout()).isLessThanOrEqualTo(expectedTimeout);
    assertThat(timeout.timeout()).isGreaterThan(expectedTimeout.minusMillis(50));
    assertThat(timeout.elapsed()).isGreaterThanOrEqualTo(timeout.timeout());
    assertThat(timeout.getMessage()).contains("stuck-1", "deadline exceeded after");
    assertThat(actualWait).isGreaterThanOrEqualTo(expectedTimeout);
    assertThat(releases).hasValue(1);
    assertThat(TxScope.registry().isIdle()).isTrue();
  }

  @Test
  void throwingOrNullBodyFailsTheScope() throws Exception {
    Throwable thrown =
        awaitFailure(
            TxScope.run(
                vertx,
                () -> {
                  throw new IllegalStateException("boom");
                }));
    Throwable nullResult = awaitFailure(TxScope.run(vertx, () -> null));

    assertThat(thrown).isInstanceOf(IllegalStateException.class).hasMessage("boom");
    assertThat(nullResult).isInstanceOf(NullPointerException.class);
  }

  @Test
  void pinsLeftBehindAreReleasedOnceWhenTheScopeCloses() throws Exception {
    AtomicInteger leftBehind = new AtomicInteger();
    AtomicInteger releasedByOwner = new AtomicInteger();
    AtomicInteger unpinned = new AtomicInteger();
    long forcedBefore = TxScope.registry().forcedReleases();

    await(
        TxScope.run(
            vertx,
            () -> {
              TxScope.pin("connection", () -> count(leftBehind));
              Pin released = TxScope.pin("connection", () -> count(releasedByOwner));
              Pin dropped = TxScope.pin("lock", () -> count(unpinned));
              assertThat(TxScope.registry().pinnedResources()).isEqualTo(3);
              assertThat(dropped.unpin()).isTrue();
              assertThat(dropped.unpin()).isFalse();
              return released.release().compose(v -> released.release());
            }));

    assertThat(leftBehind).hasValue(1);
    assertThat(releasedByOwner).hasValue(1);
    assertThat(unpinned).hasValue(0);
    assertThat(TxScope.registry().forcedReleases() - forcedBefore).isEqualTo(1);
    assertThat(TxScope.registry().pinnedResources()).isZero();
  }

  @Test
  void pinningOutsideAScopeOrAfterItClosedIsRefusedAndReleasesAtOnce() throws Exception {
    AtomicInteger releases = new AtomicInteger();
    AtomicReference<Context> scopeContext = new AtomicReference<>();
    await(
        TxScope.run(
            vertx,
            () -> {
              scopeContext.set(Vertx.currentContext());
              return Future.succeededFuture();
            }));

    Throwable outside =
        awaitFailure(
            onEventLoop(vertx, () -> Future.succeededFuture(TxScope.pin("x", () -> null))));
    Promise<Pin> late = Promise.promise();
    scopeContext
        .get()
        .runOnContext(
            v -> {
              try {
                late.complete(TxScope.pin("connection", () -> count(releases)));
              } catch (RuntimeException e) {
                late.fail(e);
              }
            });
    Throwable afterClose = awaitFailure(late.future());

    assertThat(outside).isInstanceOf(ShardkitException.class).hasMessageContaining("no scope");
    assertThat(afterClose)
        .isInstanceOf(ShardkitException.class)
        .hasMessageContaining("already closed");
    assertThat(releases).hasValue(1);
  }

  @Test
  void boundReturnsTheWorkWhenItWinsAndCleansUpWhenTheDeadlineWins() throws Exception {
    AtomicInteger cleanups = new AtomicInteger();

    String fast =
        await(
            TxScope.run(
                vertx,
                () -> TxScope.bound(Future.succeededFuture("done"), cleanups::incrementAndGet)));
    Throwable slow =
        awaitFailure(
            TxScope.run(
                vertx,
                ScopeOptions.builder().globalId("slow-1").timeout(Duration.ofMillis(100)).build(),
                () -> TxScope.bound(never(), cleanups::incrementAndGet)));

    assertThat(fast).isEqualTo("done");
    assertThat(slow).isInstanceOf(ShardkitTimeoutException.class).hasMessageContaining("slow-1");
    assertThat(cleanups).hasValue(1);
  }

  @Test
  void boundWorkAbandonedByItsScopeIsCleanedUp() throws Exception {
    AtomicInteger cleanups = new AtomicInteger();
    AtomicReference<Future<Object>> abandoned = new AtomicReference<>();

    await(
        TxScope.run(
            vertx,
            () -> {
              abandoned.set(TxScope.bound(never(), cleanups::incrementAndGet));
              return Future.succeededFuture();
            }));

    assertThat(cleanups).hasValue(1);
    assertThat(awaitFailure(abandoned.get()))
        .isInstanceOf(ShardkitException.class)
        .hasMessageContaining("scope closed");
  }

  @Test
  void boundWorkIsNotStartedOnceTheDeadlineHasPassed() throws Exception {
    AtomicInteger started = new AtomicInteger();
    AtomicInteger cleanups = new AtomicInteger();
    Promise<Future<String>> late = Promise.promise();

    Throwable scope =
        awaitFailure(
            TxScope.run(
                vertx,
                ScopeOptions.builder().globalId("late-1").timeout(Duration.ofMillis(50)).build(),
                () -> {
                  // Runs on the scope's context after the deadline, like a callback that fires
                  // late.
                  vertx.setTimer(
                      150,
                      id ->
                          late.complete(
                              TxScope.bound(
                                  () -> {
                                    started.incrementAndGet();
                                    return Future.succeededFuture("sent");
                                  },
                                  cleanups::incrementAndGet)));
                  return never();
                }));
    Throwable refused = awaitFailure(await(late.future()));

    assertThat(scope).isInstanceOf(ShardkitTimeoutException.class);
    assertThat(refused).isInstanceOf(ShardkitTimeoutException.class).hasMessageContaining("late-1");
    assertThat(started).as("work started after the deadline").hasValue(0);
    assertThat(cleanups).as("cleanup of work never started").hasValue(0);
  }

  @Test
  void boundSupplierStartsTheWorkOnceWhileThereIsTime() throws Exception {
    AtomicInteger started = new AtomicInteger();

    String result =
        await(
            TxScope.run(
                vertx,
                () ->
                    TxScope.bound(
                        () -> {
                          started.incrementAndGet();
                          return Future.succeededFuture("sent");
                        },
                        null)));
    Throwable thrown =
        awaitFailure(
            TxScope.run(
                vertx,
                () ->
                    TxScope.<String>bound(
                        () -> {
                          throw new IllegalStateException("boom");
                        },
                        null)));

    assertThat(result).isEqualTo("sent");
    assertThat(started).hasValue(1);
    assertThat(thrown).isInstanceOf(IllegalStateException.class).hasMessage("boom");
  }

  @Test
  void boundOutsideAnyContextFails() throws Exception {
    Throwable actual = awaitFailure(TxScope.bound(Future.succeededFuture(1), null));

    assertThat(actual).isInstanceOf(ShardkitException.class).hasMessageContaining("no transaction");
  }

  @Test
  void nestedScopeLeftOpenIsClosedWithItsParent() throws Exception {
    AtomicInteger childReleases = new AtomicInteger();
    AtomicReference<Future<Object>> child = new AtomicReference<>();

    await(
        TxScope.run(
            vertx,
            () -> {
              child.set(
                  TxScope.run(
                      vertx,
                      () -> {
                        TxScope.pin("connection", () -> count(childReleases));
                        return never();
                      }));
              return Future.succeededFuture();
            }));

    assertThat(awaitFailure(child.get()))
        .isInstanceOf(ShardkitException.class)
        .hasMessageContaining("enclosing scope closed");
    assertThat(childReleases).hasValue(1);
  }

  @Test
  void parentTimeoutTimesOutItsChildren() throws Exception {
    AtomicReference<Future<Object>> child = new AtomicReference<>();

    Throwable parent =
        awaitFailure(
            TxScope.run(
                vertx,
                ScopeOptions.ofTimeout(Duration.ofMillis(80)),
                () -> {
                  child.set(TxScope.run(vertx, () -> never()));
                  return never();
                }));

    assertThat(parent).isInstanceOf(ShardkitTimeoutException.class);
    assertThat(awaitFailure(child.get())).isInstanceOf(ShardkitTimeoutException.class);
  }

  private static Future<Void> count(AtomicInteger counter) {
    counter.incrementAndGet();
    return Future.succeededFuture();
  }
}
