package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static io.shardkit.tx.impl.xa.XaFixture.failure;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.vertx.core.Future;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An XA transaction rolled back at its deadline while its statement waits for a row lock another
 * session holds: the statement is killed on its shard, the branch rolls back at once (its locks go
 * with it) and the connection serves the next transaction, instead of the branch's statement
 * waiting on the server until the lock goes or {@code innodb_lock_wait_timeout} passes and the
 * connection being held until {@code rollbackTimeout}.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class XaDeadlineKillTest {

  static final String DEBIT = "UPDATE account SET balance = balance - ? WHERE id = ?";

  XaFixture fx;

  @BeforeAll
  void setUp(ShardDatabases dbs) throws Exception {
    XaFixture.createTables(dbs);
    fx = new XaFixture(dbs, XaFixture.options(), 4);
    await(fx.transactions.installSchema());
    fx.resetAccounts(10, 100);
  }

  @AfterAll
  void tearDown() throws Exception {
    fx.close();
  }

  /**
   * The UPDATEs of accounts running on {@code shard}, once it has stayed zero for 400 ms (longer
   * than the kill's 250 ms grace: a statement queued behind a killed one starts in between), or
   * what it is after {@code ms}.
   */
  int waitingAfter(int shard, long ms) throws InterruptedException {
    return fx.dbs
        .get(shard)
        .runningOnceSettled(
            "UPDATE account SET balance", Duration.ofMillis(400), Duration.ofMillis(ms));
  }

  @Test
  void aBranchWaitingForALockAtTheDeadlineIsKilledAndItsConnectionServesAtOnce() throws Exception {
    // account 2 lives on ds_0; another session holds its row lock for the whole test
    SqlConnection holder = await(MySQLConnection.connect(fx.vertx, fx.dbs.get(0).connectOptions()));
    try {
      await(holder.query("BEGIN").execute());
      await(holder.query("SELECT balance FROM account WHERE id = 2 FOR UPDATE").execute());
      List<Future<Object>> cut = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        // a transfer from account 1 (ds_1) to account 2 (ds_0): its ds_0 branch waits for the lock
        cut.add(
            fx.pool.withTransaction(
                Duration.ofMillis(400),
                sql ->
                    sql.preparedQuery(DEBIT)
                        .execute(Tuple.of(1, 1))
                        .compose(rs -> sql.preparedQuery(DEBIT).execute(Tuple.of(-1, 2)))
                        .map(rs -> null)));
      }
      for (Future<Object> f : cut) {
        assertThat(failure(f)).isInstanceOf(ShardkitTimeoutException.class);
      }
      int left = waitingAfter(0, 1_500);
      assertThat(left)
          .as("UPDATEs of rolled-back branches still waiting on ds_0 1.5 s after the deadline")
          .isZero();
      // the lock is still held: another account on ds_0 is served at once
      long t0 = System.nanoTime();
      await(
          fx.pool.withTransaction(
              Duration.ofSeconds(2),
              sql -> sql.preparedQuery(DEBIT).execute(Tuple.of(1, 4)).map(rs -> null)));
      assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_000);
    } finally {
      await(holder.query("ROLLBACK").execute());
      await(holder.close());
    }
    // nothing of the rolled-back transfers applied; the later debit did
    assertThat(fx.balance(1)).isEqualTo(100);
    assertThat(fx.balance(2)).isEqualTo(100);
    assertThat(fx.balance(4)).isEqualTo(99);
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  /**
   * Two statements of a branch sent together on a locked row: the one queued behind the killed one
   * would start and wait in turn; the session is killed, nothing waits, nothing is applied.
   */
  @Test
  void aStatementQueuedBehindTheKilledOneDoesNotWaitInItsTurn() throws Exception {
    SqlConnection holder = await(MySQLConnection.connect(fx.vertx, fx.dbs.get(0).connectOptions()));
    try {
      await(holder.query("BEGIN").execute());
      await(holder.query("SELECT balance FROM account WHERE id = 6 FOR UPDATE").execute());
      Future<Object> cut =
          fx.pool.withTransaction(
              Duration.ofMillis(400),
              sql ->
                  sql.preparedQuery(DEBIT)
                      .execute(Tuple.of(1, 1))
                      .compose(
                          rs ->
                              Future.all(
                                  sql.preparedQuery(DEBIT).execute(Tuple.of(-1, 6)),
                                  sql.preparedQuery(DEBIT).execute(Tuple.of(-1, 6))))
                      .map(rs -> null));
      assertThat(failure(cut)).isInstanceOf(ShardkitTimeoutException.class);
      int left = waitingAfter(0, 1_500);
      assertThat(left)
          .as("UPDATEs of the rolled-back branch still waiting on ds_0 1.5 s after the deadline")
          .isZero();
    } finally {
      await(holder.query("ROLLBACK").execute());
      await(holder.close());
    }
    Thread.sleep(200);
    assertThat(fx.balance(1)).isEqualTo(100);
    assertThat(fx.balance(6)).isEqualTo(100);
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }
}
