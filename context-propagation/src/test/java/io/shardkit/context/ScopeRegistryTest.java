package io.shardkit.context;

import static io.shardkit.context.TestSupport.await;
import static io.shardkit.context.TestSupport.awaitFailure;
import static io.shardkit.context.TestSupport.never;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.junit.LeakGuardExtension;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakGuardExtension.class)
class ScopeRegistryTest {

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
  void gaugesAndSnapshotShowWhoOwnsWhatWhileTheScopeIsOpen() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    TxScope.registry().bindTo(meters);
    Promise<Void> release = Promise.promise();
    Promise<List<ScopeRegistry.OpenScope>> seen = Promise.promise();

    Future<Void> scope =
        TxScope.run(
            vertx,
            ScopeOptions.builder().globalId("owner-1").branchId("ds_1").build(),
            () -> {
              TxScope.pin("connection", Future::succeededFuture);
              TxScope.pin("connection", Future::succeededFuture);
              TxScope.pin("cursor", Future::succeededFuture);
              TxScope.run(vertx, () -> release.future());
              seen.complete(TxScope.registry().snapshot());
              return release.future();
            });
    List<ScopeRegistry.OpenScope> actual = await(seen.future());
    double openGauge = meters.get("shardkit.scopes.open").gauge().value();
    double pinnedGauge = meters.get("shardkit.scopes.pinned").gauge().value();
    double timersGauge = meters.get("shardkit.scopes.timers").gauge().value();
    String report = TxScope.registry().describe();
    release.complete();
    await(scope);

    assertThat(actual).hasSize(2);
    ScopeRegistry.OpenScope owner = actual.get(0);
    assertThat(owner.globalId()).isEqualTo("owner-1");
    assertThat(owner.branchId()).isEqualTo("ds_1");
    assertThat(owner.pinned()).containsEntry("connection", 2).containsEntry("cursor", 1);
    assertThat(owner.openChildren()).isEqualTo(1);
    assertThat(actual.get(1).globalId()).isEqualTo("owner-1");
    assertThat(actual.get(1).pinned()).isEmpty();
    assertThat(openGauge).isEqualTo(2);
    assertThat(pinnedGauge).isEqualTo(3);
    assertThat(timersGauge).isEqualTo(2);
    assertThat(report)
        .contains("open scopes=2, pinned resources=3, pending timers=2")
        .contains("gid=owner-1 branch=ds_1")
        .contains("connection=2");
    assertThat(meters.get("shardkit.scopes.open").gauge().value()).isZero();
    assertThat(meters.get("shardkit.scopes.forced.releases").functionCounter().count())
        .isGreaterThanOrEqualTo(3);
  }

  @Test
  void timeoutsAreCounted() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    TxScope.registry().bindTo(meters);
    double before = meters.get("shardkit.scopes.timeouts").functionCounter().count();

    awaitFailure(TxScope.run(vertx, ScopeOptions.ofTimeout(Duration.ofMillis(20)), () -> never()));

    assertThat(meters.get("shardkit.scopes.timeouts").functionCounter().count() - before)
        .isEqualTo(1);
  }

  @Test
  void leakGuardFailsWithTheReportAndClosesTheLeftovers() throws Exception {
    AtomicInteger releases = new AtomicInteger();
    Promise<Void> pinned = Promise.promise();
    Future<Object> leaked =
        TxScope.run(
            vertx,
            ScopeOptions.builder().globalId("leaky-1").timeout(Duration.ofMinutes(5)).build(),
            () -> {
              TxScope.pin(
                  "connection",
                  () -> {
                    releases.incrementAndGet();
                    return Future.succeededFuture();
                  });
              pinned.complete();
              return never();
            });
    await(pinned.future());

    LeakGuardExtension guard = new LeakGuardExtension(Duration.ofMillis(50));
    assertThatThrownBy(() -> guard.check("in this test"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Leak in this test")
        .hasMessageContaining("open scopes=1, pinned resources=1, pending timers=1")
        .hasMessageContaining("gid=leaky-1");

    assertThat(awaitFailure(leaked))
        .isInstanceOf(ShardkitException.class)
        .hasMessageContaining("closed by LeakGuardExtension in this test")
        .hasMessageContaining("leaky-1");
    assertThat(releases).hasValue(1);
    assertThat(TxScope.registry().isIdle()).isTrue();
  }

  @Test
  void leakGuardWaitsForScopesThatAreAboutToClose() throws Exception {
    Promise<Void> started = Promise.promise();
    TxScope.run(
        vertx,
        () -> {
          Promise<Void> done = Promise.promise();
          vertx.setTimer(100, id -> done.complete());
          started.complete();
          return done.future();
        });
    await(started.future());

    new LeakGuardExtension(Duration.ofSeconds(2)).check("while a scope closes");

    assertThat(TxScope.registry().isIdle()).isTrue();
  }

  @Test
  void forceCloseAllGetsThroughScopesWhoseVertxIsClosed() throws Exception {
    Vertx gone = TestSupport.vertx();
    int before = TxScope.registry().openScopes();
    TxScope.run(
        gone,
        ScopeOptions.ofTimeout(java.time.Duration.ofMinutes(5)),
        () -> Promise.<Void>promise().future());
    TestSupport.close(gone); // its deadline timer died with it: the scope stays registered
    assertThat(TxScope.registry().openScopes()).isEqualTo(before + 1);

    int closed = TxScope.registry().forceCloseAll("vertx closed");

    assertThat(closed).isGreaterThanOrEqualTo(1);
    assertThat(TxScope.registry().openScopes()).isZero();
  }
}
