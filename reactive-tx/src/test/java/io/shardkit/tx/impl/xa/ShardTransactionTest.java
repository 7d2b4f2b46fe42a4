package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static io.shardkit.tx.impl.xa.XaFixture.failure;
import static io.shardkit.tx.impl.xa.XaFixture.transfer;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.spi.ShardTransaction;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.impl.Hooks;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The seam {@code ShardedPool} calls ({@code ShardTransactionManager.begin} and the {@link
 * ShardTransaction} it returns), driven directly on two real shards: commit across shards,
 * rollback, the deadline, hooks, the one-phase path. Account {@code id} lives on {@code ds_(id mod
 * 2)}.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class ShardTransactionTest {

  static final Duration FIVE_SECONDS = Duration.ofSeconds(5);
  static XaFixture fx;
  static SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    XaFixture.createTables(dbs);
    fx = new XaFixture(dbs, XaFixture.options().meterRegistry(meters), 4);
    await(fx.transactions.installSchema());
    // first parse of the test's statements off the event loop (JSqlParser's warm-up is slow)
    fx.resetAccounts(10, 100);
    await(transfer(fx.pool, "warm-up", 1, 2, 0));
  }

  @AfterAll
  static void tearDown() throws Exception {
    fx.close();
  }

  @BeforeEach
  void reset() {
    fx.resetAccounts(10, 100);
  }

  /** Runs {@code body} on a fresh event-loop context and gives its future. */
  private static <T> Future<T> onContext(Context context, Function<Context, Future<T>> body) {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> body.apply(context).onComplete(promise));
    return promise.future();
  }

  private static Future<Void> debit(ShardTransaction tx, String ds, long id, long amount) {
    return tx.clientFor(ds)
        .compose(
            sql ->
                sql.preparedQuery("UPDATE account SET balance = balance - ? WHERE id = ?")
                    .execute(Tuple.of(amount, id)))
        .mapEmpty();
  }

  @Test
  void commitAcrossTwoShardsIsAtomicAndDecidedInTheLog() throws Exception {
    ShardTransaction tx = await(fx.tx.begin(fx.pool, FIVE_SECONDS));
    // routed statements through the pool, as ShardedPool.withTransaction runs them
    SqlClient routed = fx.pool.withConnections(tx);
    await(transfer(routed, "s1", 1, 2, 30).compose(v -> debit(tx, "ds_0", 4, 5)));
    // nothing visible outside the transaction before the commit
    assertThat(fx.balance(1)).isEqualTo(100);
    await(tx.commit());
    assertThat(fx.balance(1)).isEqualTo(70);
    assertThat(fx.balance(2)).isEqualTo(130);
    assertThat(fx.balance(4)).isEqualTo(95);
    assertThat(await(fx.tx.decision(tx.globalId()))).contains(Decision.COMMIT);
    assertThat(fx.preparedBranchesEverywhere()).isZero();
    await(tx.completion()); // committed: success
    await(tx.commit()); // a second call gets the first outcome
  }

  @Test
  void oneShardCommitsInOnePhaseWithoutLogRow() throws Exception {
    int expectedLogRows = fx.logRows();
    ShardTransaction tx = await(fx.tx.begin(fx.pool, FIVE_SECONDS));
    await(transfer(fx.pool.withConnections(tx), "s2", 2, 4, 10)); // both on ds_0
    await(tx.commit());
    assertThat(fx.balance(2)).isEqualTo(90);
    assertThat(fx.balance(4)).isEqualTo(110);
    assertThat(fx.logRows()).isEqualTo(expectedLogRows);
    assertThat(await(fx.tx.decision(tx.globalId()))).isEmpty();
  }

  @Test
  void rollbackUndoesEveryShardAndRunsOnlyRollbackHooks() throws Exception {
    List<String> actualHooks = new CopyOnWriteArrayList<>();
    ShardTransaction tx = await(fx.tx.begin(fx.pool, FIVE_SECONDS));
    tx.onCommit(() -> actualHooks.add("commit"));
    tx.onRollback(() -> actualHooks.add("rollback"));
    await(transfer(fx.pool.withConnections(tx), "s3", 1, 2, 30));
    await(tx.rollback());
    assertThat(actualHooks).containsExactly("rollback");
    assertThat(failure(tx.completion())).isInstanceOf(TransactionRolledBackException.class);
    assertThat(failure(tx.commit())).hasMessageContaining("rolled back");
    await(tx.rollback()); // idempotent
    assertThat(fx.balance(1)).isEqualTo(100);
    assertThat(fx.balance(2)).isEqualTo(100);
    assertThat(fx.dbs.get(0).query("SELECT * FROM transfer")).isEmpty();
    assertThat(fx.preparedBranchesEverywhere()).isZero();
    assertThat(actualHooks).containsExactly("rollback");
  }

  @Test
  void deadlineRollsBackOnItsOwnAndFailsLaterStatementsAndTheCommit() throws Exception {
    List<String> actualHooks = new CopyOnWriteArrayList<>();
    ShardTransaction tx = await(fx.tx.begin(fx.pool, Duration.ofMillis(400)));
    tx.onRollback(() -> actualHooks.add("rollback"));
    tx.onCommit(() -> actualHooks.add("commit"));
    await(debit(tx, "ds_1", 1, 50).compose(v -> debit(tx, "ds_0", 2, 50)));
    // the deadline completes the transaction without any call from the caller
    Throwable actualCompletion = failure(tx.completion());
    assertThat(actualCompletion).isInstanceOf(ShardkitTimeoutException.class);
    assertThat(actualHooks).containsExactly("rollback");
    assertThat(failure(tx.clientFor("ds_0"))).isInstanceOf(ShardkitTimeoutException.class);
    assertThat(failure(tx.commit())).isInstanceOf(ShardkitTimeoutException.class);
    // the caller's second end call gets the first outcome
    assertThat(failure(tx.rollback())).isInstanceOf(ShardkitTimeoutException.class);
    settle();
    assertThat(fx.balance(1)).isEqualTo(100);
    assertThat(fx.balance(2)).isEqualTo(100);
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  @Test
  void hooksRunOnceOnTheCallersContextAndAFailingHookNeverFailsTheCommit() throws Exception {
    double failuresBefore = hookFailures();
    Context caller = fx.vertx.getOrCreateContext();
    List<String> actualHooks = new CopyOnWriteArrayList<>();
    List<Boolean> onCaller = new CopyOnWriteArrayList<>();
    await(
        onContext(
            caller,
            ctx ->
                fx.tx
                    .begin(fx.pool, FIVE_SECONDS)
                    .compose(
                        tx -> {
                          onCaller.add(Vertx.currentContext() == ctx);
                          tx.onCommit(
                              () -> {
                                actualHooks.add("first");
                                onCaller.add(Vertx.currentContext() == ctx);
                              });
                          tx.onCommit(
                              () -> {
                                throw new IllegalStateException("cache down");
                              });
                          tx.onCommit(() -> actualHooks.add("third"));
                          tx.onRollback(() -> actualHooks.add("rollback"));
                          return transfer(fx.pool.withConnections(tx), "s5", 1, 2, 10)
                              .compose(
                                  v -> {
                                    onCaller.add(Vertx.currentContext() == ctx);
                                    return tx.commit();
                                  })
                              .andThen(ar -> onCaller.add(Vertx.currentContext() == ctx))
                              .compose(v -> tx.completion())
                              .andThen(ar -> onCaller.add(Vertx.currentContext() == ctx))
                              .map(
                                  v -> {
                                    // registered after the outcome: runs at once (on the caller)
                                    tx.onCommit(() -> actualHooks.add("late"));
                                    return v;
                                  });
                        })));
    long until = System.currentTimeMillis() + 2000;
    while (actualHooks.size() < 3 && System.currentTimeMillis() < until) {
      Thread.sleep(10);
    }
    assertThat(actualHooks).containsExactly("first", "third", "late");
    assertThat(onCaller).hasSize(5).containsOnly(true);
    assertThat(hookFailures()).isEqualTo(failuresBefore + 1);
    assertThat(fx.balance(1)).isEqualTo(90);
    assertThat(fx.balance(2)).isEqualTo(110);
  }

  @Test
  void rollbackAfterTheDeadlineSucceedsNothingBeingApplied() throws Exception {
    ShardTransaction tx = await(fx.tx.begin(fx.pool, Duration.ofMillis(300)));
    await(debit(tx, "ds_1", 1, 50));
    assertThat(failure(tx.completion())).isInstanceOf(ShardkitTimeoutException.class);
    await(tx.rollback());
    settle();
    assertThat(fx.balance(1)).isEqualTo(100);
  }

  @Test
  void failedStatementLeavesTheCallerToRollBackAndNothingIsApplied() throws Exception {
    ShardTransaction tx = await(fx.tx.begin(fx.pool, FIVE_SECONDS));
    await(debit(tx, "ds_1", 1, 10));
    Throwable actual =
        failure(
            tx.clientFor("ds_0")
                .compose(sql -> sql.query("UPDATE no_such_table SET x = 1").execute()));
    assertThat(actual).hasMessageContaining("no_such_table");
    await(tx.rollback());
    assertThat(fx.balance(1)).isEqualTo(100);
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  private static double hookFailures() {
    Counter counter = meters.find(Hooks.FAILURES).tag("mode", "xa").tag("hook", "commit").counter();
    return counter == null ? 0 : counter.count();
  }

  /** Rollbacks after a deadline finish in the background; give them a moment. */
  private static void settle() throws InterruptedException {
    long until = System.nanoTime() + 3_000_000_000L;
    while (System.nanoTime() < until) {
      boolean busy = false;
      for (int i = 0; i < 2; i++) {
        for (var row :
            fx.dbs
                .get(i)
                .shard()
                .query(null, "SELECT COUNT(*) AS c FROM information_schema.innodb_trx")) {
          busy |= row.getInteger("c") > 0;
        }
      }
      if (!busy) {
        return;
      }
      Thread.sleep(20);
    }
  }
}
