package io.shardkit.tx.outbox;

import io.shardkit.context.ConfigurationException;
import io.shardkit.router.DataNode;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.TableRule;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The receiving side's deduplication: each message id is recorded in an inbox table in the same
 * local transaction as the consumer's own write, so a message delivered again (the relay publishes
 * at least once) has no second effect.
 *
 * <p>The inbox table is a table of the consumer's {@link ShardedPool} rules: a single table, or a
 * table sharded on {@code shard_key} like the table the consumer writes (then the message id is
 * recorded on the shard of the write, in its local transaction). Rows are {@code (consumer,
 * message_id)}: one table serves several consumers.
 */
public final class Inbox {

  private final ShardedPool pool;
  private final String consumer;
  private final String table;
  private final String shardKeyType;
  private final Duration timeout;

  private Inbox(
      ShardedPool pool, String consumer, String table, String shardKeyType, Duration timeout) {
    this.pool = pool;
    this.consumer = consumer;
    this.table = table;
    this.shardKeyType = shardKeyType;
    this.timeout = timeout;
  }

  /**
   * The inbox of consumer {@code consumer} in table {@code table} of {@code pool}; {@code
   * shardKeyType} is the SQL type of its {@code shard_key} column (the type of the consumer table's
   * sharding column); each {@link #apply} runs in a transaction of {@code timeout}.
   */
  public static Inbox create(
      ShardedPool pool, String consumer, String table, String shardKeyType, Duration timeout) {
    if (consumer == null || consumer.isBlank() || consumer.length() > 128) {
      throw new IllegalArgumentException("consumer: 1 to 128 chars");
    }
    return new Inbox(pool, consumer, table, shardKeyType, timeout);
  }

  /**
   * The inbox of {@code consumer} in {@code shardkit_inbox}, shard key BIGINT, 5 s transactions.
   */
  public static Inbox create(ShardedPool pool, String consumer) {
    return create(pool, consumer, "shardkit_inbox", "BIGINT", Duration.ofSeconds(5));
  }

  /** The consumer's name. */
  public String consumer() {
    return consumer;
  }

  /** Creates the inbox table on every data source that holds it, if absent. */
  public Future<Void> installSchema() {
    List<Future<?>> all = new ArrayList<>();
    for (DataNode node : nodes()) {
      Pool db = pool.pool(node.dataSource());
      all.add(
          db.query(
                  "CREATE TABLE IF NOT EXISTS "
                      + node.table()
                      + " (consumer VARCHAR(128) NOT NULL,"
                      + " message_id CHAR(36) CHARACTER SET ascii NOT NULL,"
                      + " shard_key "
                      + shardKeyType
                      + " NOT NULL,"
                      + " received_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
                      + " PRIMARY KEY (consumer, message_id)) ENGINE=InnoDB")
              .execute());
    }
    return Future.all(all).compose(v -> pool.refreshSchema());
  }

  private List<DataNode> nodes() {
    Optional<TableRule> rule = pool.rules().tableRule(table);
    if (rule.isPresent()) {
      return rule.get().dataNodes();
    }
    String single = pool.rules().singleTables().get(table.toLowerCase(java.util.Locale.ROOT));
    if (single == null) {
      single = pool.rules().defaultDataSource().orElse(null);
    }
    if (single == null) {
      throw new ConfigurationException(
          "rules.tables." + table,
          "the inbox table " + table + " is neither a table of the pool's rules nor single");
    }
    return List.of(new DataNode(single, table));
  }

  /**
   * Records {@code message} in the inbox through {@code client} (a transaction's connection) and
   * tells whether it is new: false when this consumer already recorded it (then do nothing: the
   * transaction that recorded it applied it). {@code shardKey} routes the row like the consumer's
   * write.
   */
  public Future<Boolean> record(SqlClient client, String messageId, Object shardKey) {
    return client
        .preparedQuery(
            "INSERT IGNORE INTO " + table + " (shard_key, consumer, message_id) VALUES (?, ?, ?)")
        .execute(Tuple.of(shardKey, consumer, messageId))
        .map(rs -> rs.rowCount() > 0);
  }

  /**
   * Applies {@code message} once: in one transaction of the consumer's pool, records its id (routed
   * by {@code shardKey}) and, when it is new, runs {@code work} on the same connection. Succeeds
   * with true when applied now, false for a duplicate (nothing run); fails (and rolls back the
   * record) when {@code work} fails, so a redelivery tries again.
   */
  public Future<Boolean> apply(
      OutboxMessage message, Object shardKey, Function<SqlConnection, Future<?>> work) {
    return pool.withTransaction(
        timeout,
        conn ->
            record(conn, message.id(), shardKey)
                .compose(
                    fresh ->
                        fresh ? work.apply(conn).map(v -> true) : Future.succeededFuture(false)));
  }

  /** Which of {@code messageIds} this consumer recorded (applied). */
  public Future<Set<String>> acknowledged(Collection<String> messageIds) {
    if (messageIds.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    StringBuilder sql =
        new StringBuilder("SELECT message_id FROM ")
            .append(table)
            .append(" WHERE consumer = ? AND message_id IN (");
    List<Object> params = new ArrayList<>();
    params.add(consumer);
    int i = 0;
    for (String id : messageIds) {
      sql.append(i++ == 0 ? "?" : ", ?");
      params.add(id);
    }
    sql.append(')');
    return pool.preparedQuery(sql.toString())
        .execute(Tuple.wrap(params))
        .map(
            rows -> {
              Set<String> found = new HashSet<>();
              for (Row row : rows) {
                found.add(row.getString(0));
              }
              return found;
            });
  }

  /** Per data source: how many messages this consumer recorded (for tests and reports). */
  public Future<Map<String, Long>> countsByDataSource() {
    Map<String, Long> counts = new LinkedHashMap<>();
    List<Future<?>> all = new ArrayList<>();
    for (DataNode node : nodes()) {
      all.add(
          pool.pool(node.dataSource())
              .preparedQuery("SELECT COUNT(*) FROM " + node.table() + " WHERE consumer = ?")
              .execute(Tuple.of(consumer))
              .onSuccess(
                  rs ->
                      counts.merge(node.dataSource(), rs.iterator().next().getLong(0), Long::sum)));
    }
    return Future.all(all).map(v -> counts);
  }
}
