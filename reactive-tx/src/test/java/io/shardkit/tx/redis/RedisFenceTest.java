package io.shardkit.tx.redis;

import static io.shardkit.tx.redis.RedisTestSupport.CODEC;
import static io.shardkit.tx.redis.RedisTestSupport.await;
import static io.shardkit.tx.redis.RedisTestSupport.awaitFailure;
import static io.shardkit.tx.redis.RedisTestSupport.number;
import static io.shardkit.tx.redis.RedisTestSupport.stockStep;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.TxContext;
import io.shardkit.router.CircuitBreakerOptions;
import io.shardkit.router.ShardCircuitBreaker;
import io.shardkit.router.ShardCircuitOpenException;
import io.shardkit.testkit.TestRedis;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.TccTryRefusedException;
import io.shardkit.tx.redis.RedisTestSupport.Reserve;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Redis fence on a real redis-server, phase by phase: the anomalies the MySQL fence handles
 * (empty compensation, a late action after its compensation, retried and concurrent phases), a
 * refusing guard, the typed errors (script error, missing compensation, unknown source), the script
 * cache lost with a restart, the fence surviving a kill -9 with persistence, and the breaker.
 */
class RedisFenceTest {

  static TestRedis redis;
  static Vertx vertx;
  static SimpleMeterRegistry meters = new SimpleMeterRegistry();
  static RedisSources sources;
  static RedisParticipant participant;
  static final RedisStep<Reserve> STOCK = stockStep("stock.reserve", "stock");

  @BeforeAll
  static void start() {
    redis = TestRedis.startDurable();
    vertx = RedisTestSupport.vertx();
    sources =
        RedisSources.builder(
                vertx,
                RedisTxOptions.builder()
                    .commandTimeout(Duration.ofSeconds(3)) // no pause here: never expires
                    .meterRegistry(meters)
                    .circuitBreaker(
                        CircuitBreakerOptions.builder()
                            .consecutiveFailures(3)
                            .openDuration(Duration.ofMillis(500))
                            .build())
                    .build())
            .source("stock", RedisTestSupport.clientOptions(redis))
            .build();
    participant = RedisParticipant.create(sources).register(STOCK);
  }

  @AfterAll
  static void stop() throws Exception {
    await(sources.close());
    RedisTestSupport.close(vertx);
    redis.close();
  }

  @BeforeEach
  void stock() {
    redis.command("FLUSHALL");
    redis.command("SET", "stock:apple", "10");
  }

  static TccBranch branch(String action, long quantity) {
    return new TccBranch(
        TxContext.newGlobalId(), "1", action, CODEC.encode(new Reserve("apple", quantity)));
  }

  static TccBranch branch(long quantity) {
    return branch("stock.reserve", quantity);
  }

  @Test
  void tryThenConfirmAppliesOnceAndRetriedPhasesAreDuplicates() throws Exception {
    TccBranch b = branch(3);
    assertThat(await(participant.tryBranch(b))).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(await(participant.tryBranch(b))).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(await(participant.confirm(b))).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(await(participant.confirm(b))).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(await(participant.tryBranch(b))).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(number(redis, "stock:apple")).isEqualTo(7);
    assertThat(number(redis, "reserved:apple")).isEqualTo(3);
    String fence = participant.fenceKey(b.globalId(), b.branchId());
    assertThat(redis.command("HGET", fence, "try")).isEqualTo("try");
    assertThat(Long.parseLong(redis.command("PTTL", fence))).isPositive();
  }

  @Test
  void cancelAfterTryGivesBackOnceEvenWhenRetried() throws Exception {
    TccBranch b = branch(4);
    await(participant.tryBranch(b));
    assertThat(await(participant.cancel(b))).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(await(participant.cancel(b))).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(await(participant.cancel(b))).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(number(redis, "stock:apple")).isEqualTo(10);
    assertThat(number(redis, "reserved:apple")).isZero();
    // a try retried after its cancel: the fence knows it ran, nothing is taken again
    assertThat(await(participant.tryBranch(b))).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(number(redis, "stock:apple")).isEqualTo(10);
  }

  @Test
  void emptyCompensationThenLateActionIsRefused() throws Exception {
    TccBranch b = branch(5);
    assertThat(await(participant.cancel(b))).isEqualTo(TccPhaseOutcome.EMPTY_ROLLBACK);
    assertThat(number(redis, "stock:apple")).isEqualTo(10); // nothing given back that was not taken
    Throwable late = awaitFailure(participant.tryBranch(b));
    assertThat(late)
        .isInstanceOf(TccTryRefusedException.class)
        .hasMessageContaining(b.globalId())
        .hasMessageContaining("redis source stock");
    assertThat(number(redis, "stock:apple")).isEqualTo(10);
    assertThat(number(redis, "reserved:apple")).isZero();
    assertThat(await(participant.cancel(b))).isEqualTo(TccPhaseOutcome.DUPLICATE);
    Throwable confirm = awaitFailure(participant.confirm(b));
    assertThat(confirm).hasMessageContaining("cancelled before its try");
  }

  @Test
  void confirmWithoutTryFailsAndAppliesNothing() throws Exception {
    TccBranch b = branch(1);
    assertThat(awaitFailure(participant.confirm(b)))
        .hasMessageContaining("no try is recorded")
        .hasMessageContaining("stock.reserve");
    assertThat(redis.command("EXISTS", participant.fenceKey(b.globalId(), "1"))).isEqualTo("0");
  }

  @Test
  void concurrentRetriesOfOnePhaseApplyItOnce() throws Exception {
    TccBranch b = branch(2);
    List<Future<TccPhaseOutcome>> tries = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      tries.add(participant.tryBranch(b));
    }
    await(Future.all(tries));
    assertThat(tries.stream().filter(f -> f.result() == TccPhaseOutcome.APPLIED)).hasSize(1);
    List<Future<TccPhaseOutcome>> cancels = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      cancels.add(participant.cancel(b));
    }
    await(Future.all(cancels));
    assertThat(cancels.stream().filter(f -> f.result() == TccPhaseOutcome.APPLIED)).hasSize(1);
    assertThat(number(redis, "stock:apple")).isEqualTo(10);
    assertThat(number(redis, "reserved:apple")).isZero();
  }

  @Test
  void guardRefusesWithoutTakingAnythingAndTheCancelIsEmpty() throws Exception {
    TccBranch b = branch(11);
    Throwable refused = awaitFailure(participant.tryBranch(b));
    assertThat(refused)
        .isInstanceOf(RedisStepRefusedException.class)
        .hasMessageContaining("stock.reserve")
        .hasMessageContaining("redis source stock")
        .hasMessageContaining("out of stock: 10 left");
    assertThat(((RedisStepRefusedException) refused).source()).isEqualTo("stock");
    assertThat(number(redis, "stock:apple")).isEqualTo(10);
    assertThat(await(participant.cancel(b))).isEqualTo(TccPhaseOutcome.EMPTY_ROLLBACK);
    assertThat(number(redis, "stock:apple")).isEqualTo(10);
  }

  @Test
  void scriptErrorIsTypedAndNamesStepPhaseAndSource() throws Exception {
    RedisStep<Reserve> broken =
        RedisStep.builder("stock.broken", CODEC)
            .source("stock")
            .keys(r -> List.of("stock:" + r.sku()))
            .action("redis.call('INCRBY', KEYS[1], 'not a number')")
            .compensation("return nil")
            .build();
    RedisParticipant p = RedisParticipant.create(sources).register(broken);
    TccBranch b = branch("stock.broken", 1);
    Throwable failure = awaitFailure(p.tryBranch(b));
    assertThat(failure).isInstanceOf(RedisScriptException.class);
    RedisScriptException e = (RedisScriptException) failure;
    assertThat(e.step()).isEqualTo("stock.broken");
    assertThat(e.source()).isEqualTo("stock");
    assertThat(e.phase()).isEqualTo("try");
    assertThat(e.getMessage())
        .contains(b.globalId())
        .contains("redis step stock.broken")
        .contains("redis source stock")
        .contains("not an integer");
    // the fence was not written: the try counts as not run, its cancel is empty
    assertThat(await(p.cancel(b))).isEqualTo(TccPhaseOutcome.EMPTY_ROLLBACK);
  }

  @Test
  void stepWithoutCompensationIsRefusedNamingStepAndSource() {
    assertThatThrownBy(
            () ->
                RedisStep.builder("stock.oneway", CODEC)
                    .source("stock")
                    .action("redis.call('DECR', KEYS[1])")
                    .build())
        .isInstanceOf(RedisStepConfigurationException.class)
        .hasMessageContaining("redis step stock.oneway (source stock)")
        .hasMessageContaining("no compensation")
        .satisfies(
            e -> {
              assertThat(((RedisStepConfigurationException) e).step()).isEqualTo("stock.oneway");
              assertThat(((RedisStepConfigurationException) e).source()).isEqualTo("stock");
            });
  }

  @Test
  void unknownSourceIsRefusedAtRegistrationAndAtRunTime() throws Exception {
    assertThatThrownBy(
            () -> RedisParticipant.create(sources).register(stockStep("stock.elsewhere", "cache")))
        .isInstanceOf(RedisStepConfigurationException.class)
        .hasMessageContaining("redis step stock.elsewhere")
        .hasMessageContaining("unknown Redis source 'cache'")
        .hasMessageContaining("[stock]");
    RedisStep<Reserve> perArgument =
        RedisStep.builder("stock.per-sku", CODEC)
            .source(r -> "stock-" + r.sku())
            .keys(r -> List.of("stock:" + r.sku()))
            .action("return nil")
            .compensation("return nil")
            .build();
    RedisParticipant p = RedisParticipant.create(sources).register(perArgument);
    Throwable failure = awaitFailure(p.tryBranch(branch("stock.per-sku", 1)));
    assertThat(failure)
        .isInstanceOf(RedisStepConfigurationException.class)
        .hasMessageContaining("redis step stock.per-sku")
        .hasMessageContaining("unknown Redis source 'stock-apple'");
    assertThat(((RedisStepConfigurationException) failure).source()).isEqualTo("stock-apple");
  }

  @Test
  void lostScriptCacheFallsBackToEval() throws Exception {
    await(participant.tryBranch(branch(1)));
    redis.command("SCRIPT", "FLUSH");
    assertThat(await(participant.tryBranch(branch(1)))).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(number(redis, "stock:apple")).isEqualTo(8);
  }

  @Test
  void fenceSurvivesKillWithPersistenceSoRetriesStayDuplicates() throws Exception {
    TccBranch tried = branch(2);
    TccBranch cancelledFirst = branch(3);
    await(participant.tryBranch(tried));
    await(participant.cancel(cancelledFirst));
    redis.kill();
    redis.start();
    assertThat(
            RedisTestSupport.eventually(
                Duration.ofSeconds(10),
                () -> {
                  try {
                    return await(
                            participant.tryBranch(tried).recover(f -> Future.succeededFuture()))
                        == TccPhaseOutcome.DUPLICATE;
                  } catch (Exception e) {
                    return false;
                  }
                }))
        .isTrue();
    assertThat(awaitFailure(participant.tryBranch(cancelledFirst)))
        .isInstanceOf(TccTryRefusedException.class);
    assertThat(await(participant.cancel(tried))).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(number(redis, "stock:apple")).isEqualTo(10);
    assertThat(number(redis, "reserved:apple")).isZero();
  }

  @Test
  void breakerOpensWhileRedisIsDownAndClosesWhenItIsBack() throws Exception {
    ShardCircuitBreaker breaker = sources.circuitBreaker("stock");
    redis.kill();
    try {
      for (int i = 0; i < 3; i++) {
        awaitFailure(participant.tryBranch(branch(1)));
      }
      assertThat(breaker.state()).isEqualTo(ShardCircuitBreaker.State.OPEN);
      Throwable refused = awaitFailure(participant.tryBranch(branch(1)));
      assertThat(refused)
          .isInstanceOf(ShardCircuitOpenException.class)
          .hasMessageContaining("data source stock");
    } finally {
      redis.start();
    }
    assertThat(
            RedisTestSupport.eventually(
                Duration.ofSeconds(10),
                () -> {
                  try {
                    await(participant.tryBranch(branch(1)).recover(f -> Future.succeededFuture()));
                  } catch (Exception e) {
                    // retried
                  }
                  return breaker.state() == ShardCircuitBreaker.State.CLOSED;
                }))
        .isTrue();
    assertThat(meters.find("shardkit.breaker.transitions").tag("shard", "stock").counters())
        .isNotEmpty();
    assertThat(
            meters
                .find("shardkit.router.shard.statements")
                .tag("shard", "stock")
                .tag("kind", "try")
                .timers())
        .isNotEmpty();
  }
}
