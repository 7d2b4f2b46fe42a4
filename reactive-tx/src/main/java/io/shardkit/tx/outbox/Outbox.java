package io.shardkit.tx.outbox;

import io.opentelemetry.api.trace.SpanContext;
import io.shardkit.context.ConfigurationException;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.router.DataNode;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.router.TableRule;
import io.shardkit.tx.outbox.spi.OutboxSink;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The transactional outbox of a {@link ShardedPool}: {@link #add} writes a message as a row of the
 * outbox table on the shard that owns its aggregate, through the transaction's own connection, so
 * the message exists if and only if the transaction commits; {@link #relay} publishes committed
 * rows to a sink; {@link #reconciler} reports (and re-drives) what did not get through.
 *
 * <p>The outbox table is a logical table of the pool's rules, sharded on {@code aggregate_key} by
 * the business table's database strategy, e.g. {@code .table("shardkit_outbox", t ->
 * t.dataNodes("ds_${0..3}.shardkit_outbox").databaseStrategy("aggregate_key", "mod"))} next to
 * {@code account} sharded by {@code id mod 4}: a message whose aggregate key is an account id lands
 * on that account's shard.
 */
public final class Outbox {

  private final Vertx vertx;
  private final ShardedPool pool;
  private final OutboxOptions options;
  private final Map<String, String> actualTables;
  private final String insertSql;

  private Outbox(Vertx vertx, ShardedPool pool, OutboxOptions options) {
    this.vertx = vertx;
    this.pool = pool;
    this.options = options;
    this.actualTables = actualTables(pool.rules(), options.table());
    this.insertSql =
        "INSERT INTO "
            + options.table()
            + " (aggregate_key, message_id, destination, content_type, payload, headers)"
            + " VALUES (?, ?, ?, ?, ?, ?)";
  }

  /**
   * The outbox of {@code pool}.
   *
   * @throws ConfigurationException when the outbox table is not a logical table of the pool's rules
   *     sharded by data source only (one actual table per data source)
   */
  public static Outbox create(Vertx vertx, ShardedPool pool, OutboxOptions options) {
    return new Outbox(vertx, pool, options);
  }

  /** The outbox of {@code pool} with the default options. */
  public static Outbox create(Vertx vertx, ShardedPool pool) {
    return create(vertx, pool, OutboxOptions.defaults());
  }

  static Map<String, String> actualTables(ShardingRules rules, String table) {
    Optional<TableRule> rule = rules.tableRule(table);
    if (rule.isEmpty()) {
      throw new ConfigurationException(
          "rules.tables." + table,
          "the outbox table "
              + table
              + " is not a table of the pool's rules: declare it sharded on aggregate_key with the"
              + " business table's database strategy, e.g. dataNodes ds_${0..n}."
              + table);
    }
    if (rule.get().tableStrategy().isPresent()) {
      throw new ConfigurationException(
          "rules.tables." + table + ".tableStrategy",
          "the outbox table " + table + " must have one actual table per data source");
    }
    Map<String, String> tables = new LinkedHashMap<>();
    for (DataNode node : rule.get().dataNodes()) {
      if (tables.put(node.dataSource(), node.table()) != null) {
        throw new ConfigurationException(
            "rules.tables." + table + ".dataNodes",
            "the outbox table " + table + " has two actual tables on " + node.dataSource());
      }
    }
    return tables;
  }

  /** The options. */
  public OutboxOptions options() {
    return options;
  }

  /** The pool the outbox lives in. */
  public ShardedPool pool() {
    return pool;
  }

  Vertx vertx() {
    return vertx;
  }

  /** Data source → actual outbox table. */
  public Map<String, String> actualTables() {
    return actualTables;
  }

  /**
   * Creates the outbox table and the lease table on every data source that holds the outbox (if
   * absent), then lets the pool read the new column types.
   */
  public Future<Void> installSchema() {
    List<Future<?>> all = new ArrayList<>();
    actualTables.forEach(
        (ds, table) -> {
          Pool db = pool.pool(ds);
          all.add(
              db.query(outboxDdl(table))
                  .execute()
                  .compose(rs -> db.query(leaseDdl(options.leaseTable())).execute()));
        });
    return Future.all(all).compose(v -> pool.refreshSchema());
  }

  private String outboxDdl(String table) {
    return "CREATE TABLE IF NOT EXISTS "
        + table
        + " (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
        + " aggregate_key "
        + options.aggregateKeyType()
        + " NOT NULL,"
        + " message_id CHAR(36) CHARACTER SET ascii NOT NULL,"
        + " destination VARCHAR(255) NOT NULL,"
        + " content_type VARCHAR(8) NOT NULL,"
        + " payload MEDIUMBLOB NOT NULL,"
        + " headers TEXT NOT NULL,"
        + " created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
        + " published_at DATETIME(6) NULL,"
        + " acknowledged_at DATETIME(6) NULL,"
        + " attempts INT NOT NULL DEFAULT 0,"
        + " UNIQUE KEY uk_message_id (message_id),"
        + " KEY ix_pending (published_at, id),"
        + " KEY ix_unacknowledged (destination, acknowledged_at, published_at)"
        + ") ENGINE=InnoDB";
  }

  static String leaseDdl(String table) {
    return "CREATE TABLE IF NOT EXISTS "
        + table
        + " (name VARCHAR(128) NOT NULL PRIMARY KEY,"
        + " owner VARCHAR(64) NOT NULL,"
        + " expires_at DATETIME(6) NOT NULL) ENGINE=InnoDB";
  }

  /**
   * Adds {@code message} to the outbox, in the transaction of {@code client}: the connection of
   * {@code pool.withTransaction} (local or XA), or the routed {@code client()} of a TCC phase or a
   * saga step. The row goes to the shard its aggregate key routes to (in a TCC phase or saga step,
   * that must be the phase's own shard: another one fails before any I/O). The transaction's global
   * id, branch id and trace context are added to the headers. Succeeds with the message id.
   *
   * <p>Per-key order: the relay publishes the messages of one aggregate key in the order of their
   * outbox rows. Add a message after the business write that locks the aggregate's row (an UPDATE,
   * an INSERT, a SELECT ... FOR UPDATE), so that two transactions on one aggregate add their
   * messages in the order they commit.
   *
   * @throws IllegalArgumentException (as a failed future) when {@code client} is a pool: the
   *     message would commit on its own, without the business write
   */
  public Future<String> add(SqlClient client, OutboxMessage message) {
    if (client instanceof Pool) {
      return Future.failedFuture(
          new IllegalArgumentException(
              "Outbox.add needs the transaction's connection (pool.withTransaction(conn -> ...),"
                  + " a TCC phase's or saga step's client()), not a pool: the message would"
                  + " commit without the business write"));
    }
    Map<String, String> headers = new LinkedHashMap<>(message.headers());
    headers.put(OutboxMessage.MESSAGE_ID, message.id());
    headers.put(OutboxMessage.AGGREGATE_KEY, message.aggregateKeyText());
    headers.put(OutboxMessage.CONTENT_TYPE, message.isJson() ? "json" : "bytes");
    Optional<TxContext> context = TxScope.current();
    if (context.isPresent()) {
      headers.put(OutboxMessage.GLOBAL_ID, context.get().globalId());
      context.get().branchId().ifPresent(b -> headers.put(OutboxMessage.BRANCH_ID, b));
      String traceparent = traceparent(context.get().spanContext());
      if (traceparent != null) {
        headers.put(OutboxMessage.TRACEPARENT, traceparent);
      }
    }
    JsonObject headerJson = new JsonObject();
    headers.forEach(headerJson::put);
    return client
        .preparedQuery(insertSql)
        .execute(
            Tuple.of(
                message.aggregateKey(),
                message.id(),
                message.destination(),
                message.isJson() ? "json" : "bytes",
                message.payload(),
                headerJson.encode()))
        .map(rs -> message.id());
  }

  static String traceparent(SpanContext span) {
    if (span == null || !span.isValid()) {
      return null;
    }
    return "00-"
        + span.getTraceId()
        + "-"
        + span.getSpanId()
        + "-"
        + span.getTraceFlags().asHex().toLowerCase(Locale.ROOT);
  }

  /**
   * Plans the outbox's INSERT once on the calling thread (routing is pure, no I/O), so that the
   * first {@link #add} on an event loop does not load the SQL parser there. {@code sampleKey} is
   * any value of the aggregate key's type.
   */
  public void warmUp(Object sampleKey) {
    pool.dataSourcesFor(insertSql, Tuple.of(sampleKey, "", "", "", "", ""));
  }

  /** A relay publishing this outbox to {@code sink} (not started). */
  public OutboxRelay relay(OutboxSink sink) {
    return new OutboxRelay(this, sink);
  }

  /** A reconciliation job over this outbox (not started). */
  public OutboxReconciler reconciler() {
    return new OutboxReconciler(this);
  }
}
