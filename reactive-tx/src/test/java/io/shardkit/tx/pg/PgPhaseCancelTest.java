package io.shardkit.tx.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.TxContext;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.TestPostgres;
import io.shardkit.tx.PostgresSourceOptions;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccCodec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A PostgreSQL TCC phase whose statement still runs when the phase's deadline passes: its
 * transaction's {@code statement_timeout} is what was left of the phase when it began, so a
 * statement started late in the phase (here after a 1 s {@code pg_sleep} of a 1.5 s phase) would
 * wait for a row lock up to that long past the deadline, holding the phase's locks. It is cancelled
 * at the deadline (the protocol's cancel request) and its connection closed, not pooled.
 */
@ExtendWith(LeakGuardExtension.class)
class PgPhaseCancelTest {

  record Credit(long account, long amount) {}

  static final TccCodec<Credit> CODEC =
      TccCodec.of(
          c -> new JsonObject().put("account", c.account()).put("amount", c.amount()),
          j -> new Credit(j.getLong("account"), j.getLong("amount")));

  /** Sleeps 1 s, then credits a pending amount (its row may be locked by another session). */
  static final PgStep<Credit> SLOW_CREDIT =
      PgStep.builder("slow.credit", CODEC)
          .source("ledger")
          .action(
              (conn, c) ->
                  conn.query("SELECT pg_sleep(1.0)")
                      .execute()
                      .compose(
                          v ->
                              conn.preparedQuery(
                                      "UPDATE account SET pending = pending + $1 WHERE id = $2")
                                  .execute(Tuple.of(c.amount(), c.account())))
                      .mapEmpty())
          .confirm((conn, c) -> Future.succeededFuture())
          .compensation((conn, c) -> Future.succeededFuture())
          .build();

  static TestPostgres pg;
  static Vertx vertx;
  static PgParticipant ledger;

  @BeforeAll
  static void start() throws Exception {
    pg = TestPostgres.start();
    pg.execute(
        "DROP TABLE IF EXISTS account",
        "CREATE TABLE account (id BIGINT PRIMARY KEY, pending BIGINT NOT NULL DEFAULT 0)",
        "INSERT INTO account (id) VALUES (1), (2)");
    vertx = Vertx.vertx();
    ledger =
        PgParticipant.builder(vertx)
            .source(
                "ledger",
                new PostgresSourceOptions(pg.connectOptions())
                    .poolOptions(new PoolOptions().setMaxSize(2)))
            .phaseTimeout(Duration.ofMillis(1_500))
            .build()
            .register(SLOW_CREDIT);
    await(ledger.installSchema());
  }

  @AfterAll
  static void stop() throws Exception {
    if (ledger != null) {
      await(ledger.close());
    }
    if (vertx != null) {
      await(vertx.close());
    }
    if (pg != null) {
      pg.close();
    }
  }

  @Test
  void aStatementStartedLateInAPhaseIsCancelledAtItsDeadline() throws Exception {
    SqlConnection holder = await(PgConnection.connect(vertx, pg.connectOptions()));
    try {
      await(holder.query("BEGIN").execute());
      await(holder.query("SELECT pending FROM account WHERE id = 1 FOR UPDATE").execute());
      TccBranch branch =
          new TccBranch(
              TxContext.newGlobalId(), "1", "slow.credit", CODEC.encode(new Credit(1, 5)));
      long t0 = System.nanoTime();
      Throwable cut =
          await(
              ledger
                  .tryBranch(branch)
                  .transform(ar -> Future.succeededFuture(ar.failed() ? ar.cause() : null)));
      assertThat(cut).as("the try cut by its 1.5 s phase deadline").isNotNull();
      // without the cancel the UPDATE, started at 1 s with a statement_timeout of 1.5 s, waits
      // until 2.5 s; with it, it ends at the deadline
      long until = t0 + TimeUnit.MILLISECONDS.toNanos(2_150);
      int left = lockWaiters();
      while (left > 0 && System.nanoTime() < until) {
        Thread.sleep(20);
        left = lockWaiters();
      }
      assertThat(left)
          .as(
              "the phase's UPDATE still waiting for the lock %d ms after the try began",
              (System.nanoTime() - t0) / 1_000_000)
          .isZero();
    } finally {
      await(holder.query("ROLLBACK").execute());
      await(holder.close());
    }
    Thread.sleep(200);
    assertThat(pg.query("SELECT pending FROM account WHERE id = 1").get(0).getLong("pending"))
        .as("nothing of the cut try applied")
        .isZero();
  }

  int lockWaiters() {
    return pg.query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                + " AND query LIKE 'UPDATE account SET pending%'")
        .get(0)
        .getInteger("n");
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
