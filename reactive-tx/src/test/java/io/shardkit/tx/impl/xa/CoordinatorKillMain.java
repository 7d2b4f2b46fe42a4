package io.shardkit.tx.impl.xa;

import io.shardkit.context.TxScope;
import io.shardkit.router.ShardedPool;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.TransactionsImpl;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The coordinator {@link CoordinatorKillTest} kills, run in its own JVM: 16 transfers in flight
 * between random accounts of the two shards (each transfer's global id is its {@code tid} in the
 * {@code transfer} table). Once {@code warm} transfers have committed, the next transaction to
 * reach the point after its decision and before its other branches' commits prints {@code decided
 * <global id>} and stays there; the parent then kills this process with SIGKILL while the other
 * transfers are wherever they are.
 *
 * <p>Arguments: the data sources as JSON ({@code {"ds_0": <MySQLConnectOptions JSON>, ...}}), the
 * number of accounts, {@code warm}, and the mode: {@code participant} (the first branch keeps the
 * decision), {@code log} (the coordinator log does) or {@code async} (participant, and the caller
 * is answered once the decision is durable: the held transaction's commits run in the background).
 */
public final class CoordinatorKillMain {

  private CoordinatorKillMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, MySQLConnectOptions> dataSources = XaFixture.dataSources(args[0]);
    int accounts = Integer.parseInt(args[1]);
    int warm = Integer.parseInt(args[2]);
    String mode = args[3];
    boolean onParticipant = !mode.equals("log");
    boolean async = mode.equals("async");
    Vertx vertx = Vertx.vertx();
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(XaFixture.rules(dataSources.size()))
            .dataSources(dataSources, new PoolOptions().setMaxSize(20))
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx,
                        p,
                        TransactionsOptions.builder("ds_0")
                            .recoveryGrace(Duration.ofMillis(300))
                            .recoveryInterval(Duration.ofHours(1)) // the parent recovers
                            .decisionOnParticipant(onParticipant)
                            .build()))
            .build();
    Transactions transactions = Transactions.of(pool);
    transactions.warmUp().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    XaTransactionsImpl xa = ((TransactionsImpl) transactions).xa();
    AtomicInteger committed = new AtomicInteger();
    AtomicBoolean held = new AtomicBoolean();
    xa.beforeCommit(
        gid -> {
          if (committed.get() >= warm && held.compareAndSet(false, true)) {
            System.out.println("decided " + gid);
            System.out.flush();
            return Promise.<Void>promise().future(); // never: the kill comes first
          }
          return Future.succeededFuture();
        });
    System.out.println("running");
    System.out.flush();
    for (int i = 0; i < 16; i++) {
      vertx.runOnContext(v -> loop(transactions, pool, accounts, committed, async));
    }
    Thread.sleep(60_000); // killed long before
    System.exit(3);
  }

  private static void loop(
      Transactions transactions,
      ShardedPool pool,
      int accounts,
      AtomicInteger committed,
      boolean async) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long from = 1 + random.nextInt(accounts);
    long to = 1 + random.nextInt(accounts);
    if (from % 2 == to % 2) {
      to = to % accounts + 1; // the other shard
    }
    long target = to;
    transactions
        .xaResult(
            io.shardkit.tx.TransactionOptions.ofTimeout(Duration.ofSeconds(2))
                .withAsyncSecondPhase(async),
            sql ->
                XaFixture.transfer(
                    sql, TxScope.current().orElseThrow().globalId(), from, target, 1))
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                committed.incrementAndGet();
              }
              loop(transactions, pool, accounts, committed, async);
            });
  }
}
