package io.shardkit.tx.impl.xa;

import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.TransactionsImpl;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A second application instance for {@link ClockSkewRecoveryTest}, run in its own JVM (under
 * libfaketime, so its wall clock is shifted or drifting): XA recovery over the given data sources,
 * one pass every 200 ms, each pass's report printed as {@code pass inDoubt=N aborts=M} on stdout,
 * until stdin closes.
 *
 * <p>Arguments: the data sources as JSON ({@code {"ds_0": <MySQLConnectOptions JSON>, ...}}).
 */
public final class SkewedRecoveryMain {

  private SkewedRecoveryMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, MySQLConnectOptions> dataSources = XaFixture.dataSources(args[0]);
    int n = dataSources.size();
    Vertx vertx = Vertx.vertx();
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(
                ShardingRules.builder()
                    .table(
                        "account",
                        t ->
                            t.dataNodes("ds_${0.." + (n - 1) + "}.account")
                                .databaseStrategy("id", "mod"))
                    .build())
            .dataSources(dataSources, new PoolOptions().setMaxSize(8))
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx,
                        p,
                        TransactionsOptions.builder("ds_0")
                            .recoveryGrace(Duration.ofMillis(300))
                            .build()))
            .build();
    Transactions transactions = Transactions.of(pool);
    // the kept log connections first, as an application does: recovery reads decisions on them
    transactions.warmUp().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    XaRecovery recovery = ((TransactionsImpl) transactions).xa().recovery();
    System.out.println("clock " + System.currentTimeMillis());
    System.out.println("recovering");
    Thread reader =
        new Thread(
            () -> {
              try {
                while (System.in.read() >= 0) {
                  // until the parent closes stdin
                }
              } catch (java.io.IOException ignored) {
                // parent gone
              }
            });
    reader.setDaemon(true);
    reader.start();
    while (reader.isAlive()) {
      long started = System.nanoTime();
      try {
        RecoveryReport report =
            recovery.runOnce().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        System.out.println(
            "pass inDoubt="
                + report.inDoubt()
                + " aborts="
                + report.abortsDecided()
                + " ms="
                + (System.nanoTime() - started) / 1_000_000
                + " elsewhere="
                + report.leasedElsewhere()
                + " unreachable="
                + report.unreachable());
      } catch (Exception e) {
        System.out.println("pass failed " + e + " ms=" + (System.nanoTime() - started) / 1_000_000);
      }
      Thread.sleep(200);
    }
    pool.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    System.exit(0);
  }
}
