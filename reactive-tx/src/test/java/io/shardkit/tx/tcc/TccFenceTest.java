package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.ShardProxy;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipants;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.TccTryRefusedException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLConnectOptions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fence on real shards, one participant phase at a time: idempotent phases, empty rollback,
 * anti-hanging (a try delivered after its cancel, delayed for real through the testkit proxy).
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class TccFenceTest {

  static final TccOptions OPTIONS = TccOptions.builder().tablePrefix("fence_t").build();

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardedPool pool;
  static Bank bank;
  static TccParticipants participants;

  @BeforeAll
  static void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    vertx = TccTestSupport.vertx();
    pool = TccTestSupport.pool(vertx, dbs.dataSources("ds_"));
  }

  @AfterAll
  static void stop() throws Exception {
    await(pool.close());
    TccTestSupport.close(vertx);
  }

  @BeforeEach
  void reset() throws Exception {
    Bank.reset(databases, OPTIONS);
    Bank.open(databases, 4, 100);
    bank = new Bank();
    participants = TccParticipants.create(vertx, pool, OPTIONS);
    participants.register(bank.debit).register(bank.credit);
    await(participants.setup());
  }

  static TccBranch debit(String gid, long account, long amount) {
    return new TccBranch(gid, "1", "debit", new Bank.Move(account, amount).toJson());
  }

  @Test
  void confirmTwiceAppliesOnce() throws Exception {
    TccBranch branch = debit("g-confirm-twice", 1, 30);

    TccPhaseOutcome actualTry = await(participants.tryBranch(branch));
    TccPhaseOutcome actualFirst = await(participants.confirm(branch));
    TccPhaseOutcome actualSecond = await(participants.confirm(branch));

    assertThat(actualTry).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(actualFirst).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(actualSecond).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(bank.runs("debit.confirm")).isEqualTo(1);
    assertThat(Bank.account(databases, 1)).containsExactly(70, 0, 0);
  }

  @Test
  void cancelTwiceUndoesOnce() throws Exception {
    TccBranch branch = debit("g-cancel-twice", 1, 30);

    await(participants.tryBranch(branch));
    long[] afterTry = Bank.account(databases, 1);
    TccPhaseOutcome actualFirst = await(participants.cancel(branch));
    TccPhaseOutcome actualSecond = await(participants.cancel(branch));

    assertThat(afterTry).containsExactly(70, 30, 0);
    assertThat(actualFirst).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(actualSecond).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(bank.runs("debit.cancel")).isEqualTo(1);
    assertThat(Bank.account(databases, 1)).containsExactly(100, 0, 0);
  }

  @Test
  void tryTwiceReservesOnce() throws Exception {
    TccBranch branch = debit("g-try-twice", 1, 30);

    TccPhaseOutcome actualFirst = await(participants.tryBranch(branch));
    TccPhaseOutcome actualSecond = await(participants.tryBranch(branch));

    assertThat(actualFirst).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(actualSecond).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(Bank.account(databases, 1)).containsExactly(70, 30, 0);
  }

  @Test
  void failedTryLeavesNothingItsCancelIsAnEmptyRollbackAndALaterTryIsRefused() throws Exception {
    TccBranch tooMuch = debit("g-failed-try", 1, 500);

    Throwable actualTryFailure = awaitFailure(participants.tryBranch(tooMuch));
    Map<Integer, Integer> fenceAfterFailedTry =
        Bank.fence(databases, 1, OPTIONS, "g-failed-try", "1");
    TccPhaseOutcome actualCancel = await(participants.cancel(tooMuch));
    // The same branch retried with an amount that would fit: the cancel's marker refuses it.
    Throwable actualLateTry = awaitFailure(participants.tryBranch(debit("g-failed-try", 1, 5)));

    assertThat(actualTryFailure).hasMessageContaining("insufficient funds");
    assertThat(fenceAfterFailedTry).isEmpty();
    assertThat(actualCancel).isEqualTo(TccPhaseOutcome.EMPTY_ROLLBACK);
    assertThat(bank.runs("debit.cancel")).isZero();
    assertThat(actualLateTry).isInstanceOf(TccTryRefusedException.class);
    assertThat(Bank.account(databases, 1)).containsExactly(100, 0, 0);
    assertThat(Bank.fence(databases, 1, OPTIONS, "g-failed-try", "1"))
        .containsExactly(Map.entry(1, 3), Map.entry(3, 3));
  }

  @Test
  void cancelDeliveredBeforeTheTryRecordsAnEmptyRollbackAndTheLateTryReservesNothing(
      ShardDatabases dbs) throws Exception {
    // The try travels through a proxy that delays every chunk: it reaches the shard after the
    // cancel, which takes the direct path, has committed.
    ShardProxy proxy = dbs.get(1).shard().openProxy();
    Map<String, MySQLConnectOptions> delayedSources = new LinkedHashMap<>();
    delayedSources.put("ds_0", dbs.get(0).connectOptions());
    delayedSources.put("ds_1", proxy.connectOptions(dbs.get(1).database()));
    ShardedPool delayedPool = TccTestSupport.pool(vertx, delayedSources);
    TccParticipants delayed =
        TccParticipants.create(
            vertx, delayedPool, OPTIONS.toBuilder().phaseTimeout(Duration.ofSeconds(15)).build());
    delayed.register(bank.debit).register(bank.credit);
    await(delayedPool.pool("ds_1").query("SELECT 1").execute());
    TccBranch branch = debit("g-cancel-first", 1, 30);
    try {
      proxy.latency(Duration.ofMillis(400));
      long start = System.nanoTime();

      Future<TccPhaseOutcome> lateTry = delayed.tryBranch(branch);
      TccPhaseOutcome actualCancel = await(participants.cancel(branch));
      long cancelMillis = (System.nanoTime() - start) / 1_000_000;
      Throwable actualTry = awaitFailure(lateTry);

      assertThat(cancelMillis).isLessThan(800);
      assertThat(actualCancel).isEqualTo(TccPhaseOutcome.EMPTY_ROLLBACK);
      assertThat(actualTry).isInstanceOf(TccTryRefusedException.class);
      assertThat(bank.runs("debit.try")).isZero();
      assertThat(bank.runs("debit.cancel")).isZero();
      assertThat(Bank.account(databases, 1)).containsExactly(100, 0, 0);
      assertThat(Bank.fence(databases, 1, OPTIONS, "g-cancel-first", "1"))
          .containsExactly(Map.entry(1, 3), Map.entry(3, 3));
    } finally {
      proxy.latency(Duration.ZERO);
      await(delayedPool.close());
      proxy.close();
    }
  }

  @Test
  void statementIssuedAfterThePhaseDeadlineIsRefusedNotRunOutsideTheTransaction() throws Exception {
    // The try writes its fence row, then waits past its deadline before its business statement:
    // the deadline gives the connection back (rolling back the fence row) and the late statement
    // must fail, not run in autocommit on the returned connection.
    java.util.concurrent.CompletableFuture<Throwable> lateStatement =
        new java.util.concurrent.CompletableFuture<>();
    TccAction<Bank.Move> slow =
        TccAction.builder("slow", Bank.CODEC)
            .shardedBy("account", Bank.Move::account)
            .onTry(
                (ctx, m) ->
                    vertx
                        .timer(400)
                        .compose(
                            t ->
                                ctx.connection()
                                    .query(
                                        "UPDATE account SET frozen = frozen + 1 WHERE id = "
                                            + m.account())
                                    .execute())
                        .onComplete(ar -> lateStatement.complete(ar.cause()))
                        .mapEmpty())
            .onConfirm((ctx, m) -> Future.succeededFuture())
            .onCancel((ctx, m) -> Future.succeededFuture())
            .build();
    participants.register(slow);
    TccBranch branch = new TccBranch("g-late-stmt", "1", "slow", new Bank.Move(1, 1).toJson());

    Throwable actual =
        awaitFailure(
            TxScope.run(
                vertx,
                ScopeOptions.ofTimeout(Duration.ofMillis(150)),
                () -> participants.tryBranch(branch)));
    Throwable actualLate = lateStatement.get(5, java.util.concurrent.TimeUnit.SECONDS);

    assertThat(actual).isInstanceOf(ShardkitTimeoutException.class);
    assertThat(actualLate).hasMessageContaining("refused");
    assertThat(Bank.account(databases, 1)).containsExactly(100, 0, 0);
    assertThat(Bank.fence(databases, 1, OPTIONS, "g-late-stmt", "1")).isEmpty();
  }

  @Test
  void confirmWithoutTryIsRefusedAndRunsNothing() throws Exception {
    TccBranch branch = debit("g-confirm-no-try", 1, 30);

    Throwable actual = awaitFailure(participants.confirm(branch));

    assertThat(actual).hasMessageContaining("no try is recorded");
    assertThat(bank.runs("debit.confirm")).isZero();
    assertThat(Bank.fence(databases, 1, OPTIONS, "g-confirm-no-try", "1")).isEmpty();
    assertThat(Bank.account(databases, 1)).containsExactly(100, 0, 0);
  }

  @Test
  void cleanFenceDeletesOnlyRowsPastTheRetention() throws Exception {
    TccBranch old = debit("g-old", 1, 10);
    TccBranch recent = debit("g-recent", 1, 10);
    await(participants.tryBranch(old));
    await(participants.cancel(old));
    await(participants.tryBranch(recent));
    databases
        .get(1)
        .execute(
            "UPDATE "
                + OPTIONS.fenceTable()
                + " SET created_at = created_at - INTERVAL 8 DAY WHERE gid = 'g-old'");

    int actualDeleted = await(participants.cleanFence());

    assertThat(actualDeleted).isEqualTo(2);
    assertThat(Bank.fence(databases, 1, OPTIONS, "g-old", "1")).isEmpty();
    assertThat(Bank.fence(databases, 1, OPTIONS, "g-recent", "1")).containsKey(1);
  }
}
