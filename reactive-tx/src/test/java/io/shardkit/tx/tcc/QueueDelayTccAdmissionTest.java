package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.FixedRateOffer;
import io.shardkit.tx.FixedRateOffer.Heard;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOverloadedException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Admission of new TCC transactions judged on queueing delay ({@link
 * TccOptions#queueDelayTarget()}) on two real shards with 3 connections each, offered transfers at
 * a fixed rate several times what they can serve (each also enlists an action whose try holds a
 * connection for 30 ms of {@code SLEEP}). With the count limit alone (256) the admitted
 * transactions' steps queue for connections until their deadlines pass; with the target, newcomers
 * are refused at once (typed, naming the setting) while the steps queue, and every admitted
 * transaction commits in time.
 */
@Shards(2)
class QueueDelayTccAdmissionTest {

  static final int ACCOUNTS = 40;
  static final long START_BALANCE = 1_000;
  static final Duration OFFERED_FOR = Duration.ofSeconds(3);
  static final long EVERY_MILLIS = 3;

  /** One coordinator on its own pools, with the given target. */
  static final class World implements AutoCloseable {
    final Vertx vertx = TccTestSupport.vertx();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final ShardedPool pool;
    final Transactions transactions;
    final Bank bank = new Bank();
    final TccAction<Bank.Move> pause =
        TccAction.builder("pause", Bank.CODEC)
            .shardedBy("account", Bank.Move::account)
            .onTry(
                (ctx, m) ->
                    ctx.client()
                        .preparedQuery("SELECT SLEEP(0.03) FROM account WHERE id = ?")
                        .execute(Tuple.of(m.account()))
                        .<Void>mapEmpty())
            .onConfirm((ctx, m) -> Future.succeededFuture())
            .onCancel((ctx, m) -> Future.succeededFuture())
            .build();

    World(ShardDatabases dbs, Duration target) throws Exception {
      TccOptions options =
          TccOptions.builder()
              .tablePrefix("qd_t")
              .logDataSource("ds_0")
              .queueDelayTarget(target)
              .meterRegistry(meters)
              .build();
      Bank.reset(dbs, options);
      Bank.open(dbs, ACCOUNTS, START_BALANCE);
      pool =
          ShardedPool.builder(vertx)
              .rules(TccTestSupport.rules(2))
              .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(3))
              .build();
      TccTestSupport.warmUp(pool);
      transactions =
          Transactions.create(
              vertx, pool, TransactionsOptions.builder("ds_0").tcc(options).build());
      transactions.register(bank.debit).register(bank.credit).register(pause);
      await(transactions.installSchema());
      await(transactions.warmUp());
    }

    double limit() {
      var gauge = meters.find("shardkit.tx.admission.limit").tag("mode", "tcc").gauge();
      return gauge == null ? TccOptions.DEFAULT_MAX_IN_FLIGHT : gauge.value();
    }

    /**
     * Offers a transfer every {@link #EVERY_MILLIS} for {@link #OFFERED_FOR}, 4 s deadline each.
     */
    Heard offer() throws Exception {
      TransactionOptions fourSeconds = TransactionOptions.ofTimeout(Duration.ofSeconds(4));
      return FixedRateOffer.offer(
          vertx,
          OFFERED_FOR,
          EVERY_MILLIS,
          i -> {
            long from = i % ACCOUNTS;
            long to =
                (i * 7 + 1) % ACCOUNTS == from ? (from + 1) % ACCOUNTS : (i * 7 + 1) % ACCOUNTS;
            return transactions.<Void>tcc(
                fourSeconds,
                tx ->
                    Future.all(
                            bank.transfer(tx, from, to, 1), tx.enlist(pause, new Bank.Move(to, 0)))
                        .mapEmpty());
          },
          this::limit);
    }

    @Override
    public void close() throws Exception {
      await(transactions.close());
      await(pool.close());
      TccTestSupport.close(vertx);
    }
  }

  @Test
  void withTheTargetNewcomersAreRefusedWhileStepsQueueAndEveryAdmittedOneCommitsInTime(
      ShardDatabases dbs) throws Exception {
    try (World w = new World(dbs, Duration.ofMillis(10))) {
      Heard heard = w.offer();
      long queueing = heard.refusedByQueueing();
      System.out.printf(
          "tcc admission on queueing delay: %d committed, %d refused (%d by queueing), %d failed,"
              + " lowest limit %.0f%n",
          heard.committed(),
          heard.refused().size(),
          queueing,
          heard.failed().size(),
          heard.lowestLimit());
      heard.failed().stream()
          .map(t -> t.getClass().getSimpleName() + ": " + t.getMessage())
          .distinct()
          .limit(5)
          .forEach(System.out::println);
      assertThat(heard.failed()).as("no admitted transaction ran out of time").isEmpty();
      assertThat(queueing).as("newcomers refused while the steps queued").isPositive();
      assertThat(heard.lowestLimit()).isLessThan(TccOptions.DEFAULT_MAX_IN_FLIGHT);
      assertThat(heard.refused().stream().filter(r -> r.queueing()).findFirst().orElseThrow())
          .hasMessageContaining("new TCC transaction refused before its first step")
          .hasMessageContaining("TccOptions.queueDelayTarget");
      assertThat(heard.committed()).isPositive();
      assertThat(Bank.totals(dbs)).containsExactly(ACCOUNTS * START_BALANCE, 0, 0);
    }
  }

  @Test
  void withTheCountLimitAloneTheSameLoadQueuesAdmittedTransactionsPastTheirDeadline(
      ShardDatabases dbs) throws Exception {
    try (World w = new World(dbs, Duration.ZERO)) {
      Heard heard = w.offer();
      System.out.printf(
          "tcc admission by count only: %d committed, %d refused, %d failed%n",
          heard.committed(), heard.refused().size(), heard.failed().size());
      assertThat(heard.refused()).noneMatch(TransactionOverloadedException::queueing);
      assertThat(heard.failed())
          .as("admitted transactions whose steps waited for connections past their deadline")
          .isNotEmpty();
      // what timed out was cancelled (at once or by recovery): the money is whole
      long until = System.nanoTime() + 20_000_000_000L;
      while (!java.util.Arrays.equals(Bank.totals(dbs), new long[] {ACCOUNTS * START_BALANCE, 0, 0})
          && System.nanoTime() < until) {
        Thread.sleep(200);
      }
      assertThat(Bank.totals(dbs)).containsExactly(ACCOUNTS * START_BALANCE, 0, 0);
    }
  }
}
