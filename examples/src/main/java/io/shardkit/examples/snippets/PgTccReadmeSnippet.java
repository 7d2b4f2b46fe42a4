package io.shardkit.examples.snippets;

import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.shardkit.tx.PostgresSourceOptions;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.pg.PgParticipant;
import io.shardkit.tx.pg.PgStep;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;

/**
 * reactive-tx/README.md, "PostgreSQL as a TCC/Saga participant": its block, compiled
 * (ReadmeSnippetsTest).
 */
final class PgTccReadmeSnippet {

  /** A credit on a PostgreSQL account: the step's argument. */
  record Credit(long account, long amount, String region) {}

  Vertx vertx;
  Transactions transactions;
  TransactionOptions opts;
  PgConnectOptions pgConnectOptions;
  MeterRegistry registry;
  OpenTelemetry otel;
  TccCodec<Credit> CREDIT_CODEC;
  TccAction<ReadmeSnippets.Move> DEBIT;
  SagaStep<ReadmeSnippets.Move, ?> DEBIT_STEP;
  ReadmeSnippets.Move t;
  Credit c;

  void readme() {
    PgStep<Credit> credit =
        PgStep.builder("ledger.credit", CREDIT_CODEC)
            .source("ledger") // or .source(c -> "ledger-" + c.region())
            .action(
                (conn, c) ->
                    conn.preparedQuery( // the try / the saga action
                            "UPDATE account SET pending = pending + $1 WHERE id = $2 AND NOT frozen")
                        .execute(Tuple.of(c.amount(), c.account()))
                        .compose(
                            rs ->
                                rs.rowCount() == 1
                                    ? Future.<Void>succeededFuture()
                                    : Future.failedFuture(
                                        new IllegalStateException("account frozen")))) // refuses
            .confirm(
                (conn, c) ->
                    conn.preparedQuery( // TCC only; default: nothing
                            "UPDATE account SET pending = pending - $1, balance = balance + $1 WHERE id = $2")
                        .execute(Tuple.of(c.amount(), c.account()))
                        .mapEmpty())
            .compensation(
                (conn, c) ->
                    conn.preparedQuery( // the cancel; mandatory
                            "UPDATE account SET pending = pending - $1 WHERE id = $2")
                        .execute(Tuple.of(c.amount(), c.account()))
                        .mapEmpty())
            .build();

    PgParticipant ledger =
        PgParticipant.builder(vertx)
            .source(
                "ledger",
                new PostgresSourceOptions(pgConnectOptions)) // a pool it creates and closes
            // .source("ledger", pgPool)                                     // or a Vert.x pg Pool
            // you own
            // .sources(transactionsOptions)      // or the XA sources' names and settings (pools of
            // its own)
            .phaseTimeout(Duration.ofSeconds(5)) // a confirm/cancel attempt (default 5 s)
            .fenceTable("shardkit_tcc_fence") // default
            .fenceRetention(Duration.ofDays(7)) // default; older rows are removed by the timer
            .cleanupInterval(Duration.ofMinutes(10)) // default; the timer's period, ZERO: off
            .meterRegistry(registry)
            .openTelemetry(otel)
            .build()
            .register(credit);
    ledger.installSchema(); // CREATE TABLE IF NOT EXISTS on every source
    ledger.installOn(transactions); // in every instance that coordinates or recovers

    transactions.tcc(opts, tx -> Future.all(tx.enlist(DEBIT, t), tx.enlist(credit.tccAction(), c)));
    transactions.saga(
        opts, saga -> saga.step(DEBIT_STEP, t).compose(v -> saga.step(credit.sagaStep(), c)));
  }
}
