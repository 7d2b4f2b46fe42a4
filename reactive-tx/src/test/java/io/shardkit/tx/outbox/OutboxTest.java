package io.shardkit.tx.outbox;

import static io.shardkit.tx.outbox.OutboxFixture.await;
import static io.shardkit.tx.outbox.OutboxFixture.awaitFailure;
import static io.shardkit.tx.outbox.OutboxFixture.count;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionResult;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The write side and reconciliation of the outbox, on two real shards. */
@Shards(2)
class OutboxTest {

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardedPool pool;
  static Outbox outbox;
  static Transactions transactions;

  @BeforeAll
  static void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    OutboxFixture.createTables(dbs);
    vertx = OutboxFixture.vertx();
    pool = OutboxFixture.pool(vertx, dbs.dataSources("ds_"));
    transactions = Transactions.of(pool);
    await(transactions.installSchema());
    outbox =
        Outbox.create(
            vertx, pool, OutboxOptions.builder().stuckAfter(Duration.ofSeconds(5)).build());
    await(outbox.installSchema());
  }

  @AfterAll
  static void stop() throws Exception {
    await(pool.close());
    await(vertx.close());
  }

  @BeforeEach
  void reset() {
    databases.executeOnAll(
        "DELETE FROM account", "DELETE FROM shardkit_outbox", "DELETE FROM shardkit_outbox_lease");
    databases.executeOnAll(
        "INSERT INTO account (id, balance) VALUES (1, 100), (2, 100), (3, 100), (4, 100)");
  }

  static long outboxRows(int shard) {
    return count(databases, shard, "SELECT COUNT(*) AS n FROM shardkit_outbox");
  }

  static Future<String> debit(io.vertx.sqlclient.SqlClient conn, long account, long amount) {
    return conn.preparedQuery("UPDATE account SET balance = balance - ? WHERE id = ?")
        .execute(Tuple.of(amount, account))
        .compose(
            rs ->
                outbox.add(
                    conn,
                    OutboxMessage.json(
                        "accounts", account, new JsonObject().put("debit", amount))));
  }

  @Test
  void aCommittedLocalTransactionHasItsMessageOnTheAggregatesShardARolledBackOneHasNone()
      throws Exception {
    TransactionResult<String> committed =
        await(
            transactions.xaResult(
                TransactionOptions.ofTimeout(Duration.ofSeconds(2)), conn -> debit(conn, 3, 10)));
    // account 3 lives on ds_1 (3 mod 2): so does its message
    assertThat(outboxRows(1)).isEqualTo(1);
    assertThat(outboxRows(0)).isZero();
    JsonObject row =
        databases
            .get(1)
            .query("SELECT message_id, headers, destination FROM shardkit_outbox")
            .get(0);
    assertThat(row.getString("message_id")).isEqualTo(committed.value());
    JsonObject headers = new JsonObject(row.getString("headers"));
    assertThat(headers.getString(OutboxMessage.GLOBAL_ID)).isEqualTo(committed.globalId());
    assertThat(headers.getString(OutboxMessage.AGGREGATE_KEY)).isEqualTo("3");

    Throwable failure =
        awaitFailure(
            pool.withTransaction(
                conn ->
                    debit(conn, 1, 10)
                        .compose(id -> Future.failedFuture(new IllegalStateException("refused")))));
    assertThat(failure).hasMessage("refused");
    assertThat(outboxRows(1)).isEqualTo(1); // no second row
    assertThat(count(databases, 1, "SELECT balance AS n FROM account WHERE id = 1")).isEqualTo(100);
  }

  @Test
  void anXaTransactionWritesMessagesOnBothShardsAtomically() throws Exception {
    await(pool.withTransaction(conn -> debit(conn, 1, 5).compose(id -> debit(conn, 2, 5))));
    assertThat(outboxRows(0)).isEqualTo(1);
    assertThat(outboxRows(1)).isEqualTo(1);
    List<JsonObject> gids =
        List.of(
            new JsonObject(
                databases
                    .get(0)
                    .query("SELECT headers FROM shardkit_outbox")
                    .get(0)
                    .getString("headers")),
            new JsonObject(
                databases
                    .get(1)
                    .query("SELECT headers FROM shardkit_outbox")
                    .get(0)
                    .getString("headers")));
    assertThat(gids.get(0).getString(OutboxMessage.GLOBAL_ID))
        .isEqualTo(gids.get(1).getString(OutboxMessage.GLOBAL_ID));

    // both messages written, then the work fails: neither shard keeps its row
    awaitFailure(
        pool.withTransaction(
            conn ->
                debit(conn, 3, 5)
                    .compose(id -> debit(conn, 4, 5))
                    .compose(id -> Future.failedFuture(new IllegalStateException("late")))));
    assertThat(outboxRows(0)).isEqualTo(1);
    assertThat(outboxRows(1)).isEqualTo(1);
  }

  @Test
  void aSagaStepAddsItsMessageInItsFencedLocalTransaction() throws Exception {
    Transactions sagas =
        Transactions.create(
            vertx,
            pool,
            TransactionsOptions.builder("ds_0")
                .tcc(TccOptions.builder().tablePrefix("outbox_saga").build())
                .build());
    await(sagas.installSchema());
    SagaStep<JsonObject, String> step =
        SagaStep.builder("outbox.debit", TccCodec.json())
            .shardedBy("account", a -> a.getLong("id"))
            .<String>action((ctx, a) -> debit(ctx.client(), a.getLong("id"), 7))
            .compensation((ctx, a) -> Future.succeededFuture())
            .build();
    sagas.register(step);
    TransactionResult<String> result =
        await(
            sagas.sagaResult(
                TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
                saga -> saga.step(step, new JsonObject().put("id", 3L))));
    assertThat(outboxRows(1)).isEqualTo(1);
    JsonObject headers =
        new JsonObject(
            databases
                .get(1)
                .query("SELECT headers FROM shardkit_outbox")
                .get(0)
                .getString("headers"));
    assertThat(headers.getString(OutboxMessage.GLOBAL_ID)).isEqualTo(result.globalId());
    assertThat(headers.getString(OutboxMessage.BRANCH_ID)).isNotNull();
  }

  @Test
  void addingThroughThePoolIsRefusedSinceTheMessageWouldCommitAlone() throws Exception {
    Throwable failure =
        awaitFailure(outbox.add(pool, OutboxMessage.json("accounts", 1L, new JsonObject())));
    assertThat(failure)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a pool");
    assertThat(outboxRows(0) + outboxRows(1)).isZero();
  }

  @Test
  void reconciliationFindsAStuckMessageAndAnUnacknowledgedOne() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Outbox measured =
        Outbox.create(
            vertx,
            pool,
            OutboxOptions.builder()
                .stuckAfter(Duration.ofSeconds(5))
                .meterRegistry(registry)
                .build());
    Inbox inbox = Inbox.create(pool, "reconcile-test");
    await(inbox.installSchema());
    String stuck = await(pool.withTransaction(conn -> debit(conn, 1, 1)));
    String fresh = await(pool.withTransaction(conn -> debit(conn, 3, 1)));
    String unacked = await(pool.withTransaction(conn -> debit(conn, 2, 1)));
    String acked = await(pool.withTransaction(conn -> debit(conn, 4, 1)));
    // no relay runs; one message is a minute old, another published a minute ago, unacknowledged
    databases
        .get(1)
        .execute(
            "UPDATE shardkit_outbox SET created_at = NOW(6) - INTERVAL 1 MINUTE WHERE message_id = '"
                + stuck
                + "'");
    databases
        .get(0)
        .execute("UPDATE shardkit_outbox SET published_at = NOW(6) - INTERVAL 1 MINUTE");
    await(pool.withTransaction(conn -> inbox.record(conn, acked, 4L)));

    OutboxReconciler reconciler = measured.reconciler().expectAcknowledgements("accounts", inbox);
    OutboxReconciler.Report report = await(reconciler.runOnce());

    assertThat(report.shards().get("ds_1").stuck()).containsExactly(stuck);
    assertThat(report.shards().get("ds_1").backlog()).isEqualTo(2);
    assertThat(report.shards().get("ds_1").oldestUnpublishedMicros()).isGreaterThan(59_000_000L);
    assertThat(report.shards().get("ds_1").leaseHeld()).isFalse();
    assertThat(report.shards().get("ds_0").unacknowledged()).containsExactly(unacked);
    assertThat(report.shards().get("ds_0").redriven()).isEqualTo(1);
    assertThat(registry.get("shardkit.outbox.stuck").tag("data_source", "ds_1").gauge().value())
        .isEqualTo(1.0);
    assertThat(
            registry
                .get("shardkit.outbox.oldest.age.ms")
                .tag("data_source", "ds_1")
                .gauge()
                .value())
        .isGreaterThan(59_000.0);
    assertThat(
            registry
                .get("shardkit.outbox.unacknowledged")
                .tag("data_source", "ds_0")
                .gauge()
                .value())
        .isEqualTo(1.0);
    // re-driven: unpublished again; the acknowledged one is marked so
    assertThat(
            count(
                databases,
                0,
                "SELECT COUNT(*) AS n FROM shardkit_outbox WHERE published_at IS NULL"))
        .isEqualTo(1);
    assertThat(
            count(
                databases,
                0,
                "SELECT COUNT(*) AS n FROM shardkit_outbox WHERE acknowledged_at IS NOT NULL"))
        .isEqualTo(1);
    assertThat(fresh).isNotEqualTo(stuck);
  }
}
