package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A TCC try waiting for a row lock another session holds when its transaction's deadline passes is
 * killed on its shard: the try's local transaction rolls back at once and its connection serves the
 * next transaction, instead of the try's statement waiting on the server until the lock goes (or
 * {@code innodb_lock_wait_timeout} passes) with the connection held.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class TccDeadlineKillTest {

  @Test
  void aTryWaitingForALockAtTheDeadlineIsKilledAndItsConnectionServesAtOnce(ShardDatabases dbs)
      throws Exception {
    TccOptions options = TccOptions.builder().tablePrefix("kill_t").logDataSource("ds_0").build();
    Bank.reset(dbs, options);
    Bank.open(dbs, 10, 100);
    Vertx vertx = TccTestSupport.vertx();
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(TccTestSupport.rules(2))
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(3))
            .build();
    TccTestSupport.warmUp(pool);
    Bank bank = new Bank();
    Transactions transactions =
        Transactions.create(vertx, pool, TransactionsOptions.builder("ds_0").tcc(options).build());
    transactions.register(bank.debit).register(bank.credit);
    await(transactions.installSchema());
    // account 3 lives on ds_1; another session holds its row lock for the whole test
    SqlConnection holder = await(MySQLConnection.connect(vertx, dbs.get(1).connectOptions()));
    try {
      await(holder.query("BEGIN").execute());
      await(holder.query("SELECT balance FROM account WHERE id = 3 FOR UPDATE").execute());
      List<Future<Void>> cut = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        // from account 2 (ds_0) to account 3 (ds_1): the credit's try waits for the lock
        cut.add(
            transactions.tcc(
                TransactionOptions.ofTimeout(Duration.ofMillis(400)),
                tx -> bank.transfer(tx, 2, 3, 1)));
      }
      for (Future<Void> f : cut) {
        Throwable failed =
            await(
                f.transform(
                    ar -> Future.<Throwable>succeededFuture(ar.failed() ? ar.cause() : null)));
        assertThat(failed).as("a transfer whose try waited past its deadline").isNotNull();
      }
      long until = System.nanoTime() + 1_500_000_000L;
      int left = waiting(dbs);
      while (left > 0 && System.nanoTime() < until) {
        Thread.sleep(20);
        left = waiting(dbs);
      }
      assertThat(left)
          .as("tries still waiting for the lock on ds_1 1.5 s after their deadline")
          .isZero();
      // the lock is still held: a transfer to another account on ds_1 is served at once
      long t0 = System.nanoTime();
      await(
          transactions.tcc(
              TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
              tx -> bank.transfer(tx, 2, 5, 1)));
      assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_500);
    } finally {
      await(holder.query("ROLLBACK").execute());
      await(holder.close());
      await(transactions.close(), Duration.ofSeconds(30));
      await(pool.close());
      TccTestSupport.close(vertx);
    }
  }

  static int waiting(ShardDatabases dbs) {
    return dbs.get(1)
        .query(
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST"
                + " WHERE INFO LIKE '%UPDATE account SET incoming%' AND ID <> CONNECTION_ID()")
        .get(0)
        .getInteger("n");
  }
}
