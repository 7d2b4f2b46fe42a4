package io.shardkit.tx.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.ShardedPool;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** For the bank tests: once their faulty run settled, the checker must find nothing. */
public final class CheckAfterRun {

  private CheckAfterRun() {}

  /** Runs every check (settle time zero: everything is finished by now) and asserts none fails. */
  public static CheckReport assertConsistent(
      Vertx vertx, ShardedPool pool, TransactionsOptions options) throws Exception {
    CheckReport report =
        ConsistencyChecker.create(
                vertx,
                pool,
                CheckOptions.defaults(options).withSettle(Duration.ZERO),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry())
            .check()
            .toCompletionStage()
            .toCompletableFuture()
            .get(120, TimeUnit.SECONDS);
    System.out.println("consistency check after the run: " + report.summary());
    assertThat(report.anomalies()).as(report.summary()).isEmpty();
    return report;
  }
}
