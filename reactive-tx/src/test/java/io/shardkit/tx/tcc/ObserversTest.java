package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.spi.TransactionObserver;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One observer seam for every protocol: an observer added to the manager's options hears XA, TCC
 * and Saga transactions end (with their outcome) and their phases, tagged by mode.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class ObserversTest {

  static final TccOptions OPTIONS = TccOptions.builder().tablePrefix("obs_t").build();
  static final TransactionOptions TWO_SECONDS = TransactionOptions.ofTimeout(Duration.ofSeconds(2));

  @Test
  void anObserverHearsXaTccAndSagaTransactions(ShardDatabases databases) throws Exception {
    SagaBank.reset(databases, OPTIONS);
    Bank.open(databases, 4, 100);
    List<String> ended = new CopyOnWriteArrayList<>();
    List<String> phases = new CopyOnWriteArrayList<>();
    TransactionObserver observer =
        new TransactionObserver() {
          @Override
          public void transactionEnded(String mode, String gid, Outcome outcome, int branches) {
            ended.add(mode + ":" + outcome);
          }

          @Override
          public void phaseEnded(String mode, String gid, String phase, Duration took, boolean ok) {
            phases.add(mode + ":" + phase);
          }
        };
    Vertx vertx = TccTestSupport.vertx();
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(TccTestSupport.rules(2))
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(8))
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx,
                        p,
                        TransactionsOptions.builder("ds_0")
                            .tcc(OPTIONS)
                            .addObserver(observer)
                            .build()))
            .build();
    TccTestSupport.warmUp(pool);
    Bank tcc = new Bank();
    SagaStep<Bank.Move, Void> bump =
        SagaStep.builder("bump", Bank.CODEC)
            .shardedBy("account", Bank.Move::account)
            .<Void>action(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
                        .execute(Tuple.of(m.amount(), m.account()))
                        .mapEmpty())
            .compensation(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery("UPDATE account SET balance = balance - ? WHERE id = ?")
                        .execute(Tuple.of(m.amount(), m.account()))
                        .mapEmpty())
            .build();
    Transactions transactions =
        Transactions.of(pool).register(tcc.debit).register(tcc.credit).register(bump);
    try {
      await(transactions.installSchema());
      await(
          pool.withTransaction(
              Duration.ofSeconds(2),
              conn ->
                  conn.preparedQuery("UPDATE account SET balance = balance - 1 WHERE id = ?")
                      .execute(Tuple.of(0))
                      .compose(
                          rs ->
                              conn.preparedQuery(
                                      "UPDATE account SET balance = balance + 1 WHERE id = ?")
                                  .execute(Tuple.of(1)))));
      await(transactions.tcc(TWO_SECONDS, tx -> tcc.transfer(tx, 0, 1, 5)));
      awaitFailure(
          transactions.tcc(TWO_SECONDS, tx -> tx.enlist(tcc.debit, new Bank.Move(0, 5_000))));
      await(
          transactions.saga(
              TWO_SECONDS,
              s ->
                  s.step(bump, new Bank.Move(0, 3))
                      .compose(v -> s.step(bump, new Bank.Move(1, 3)))));
      awaitFailure(
          transactions.saga(
              TWO_SECONDS,
              s ->
                  s.step(bump, new Bank.Move(0, 3))
                      .compose(v -> Future.failedFuture(new IllegalStateException("no")))));
    } finally {
      await(transactions.close());
      await(pool.close());
      TccTestSupport.close(vertx);
    }
    assertThat(ended)
        .containsExactlyInAnyOrder(
            "xa:COMMITTED",
            "tcc:COMMITTED",
            "tcc:ROLLED_BACK",
            "saga:COMMITTED",
            "saga:ROLLED_BACK");
    assertThat(phases).contains("xa:prepare", "xa:commit", "tcc:try", "tcc:confirm", "tcc:cancel");
    assertThat(phases).contains("saga:action", "saga:compensation");
  }
}
