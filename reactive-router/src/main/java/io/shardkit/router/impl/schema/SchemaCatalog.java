package io.shardkit.router.impl.schema;

import io.shardkit.router.DataNode;
import io.shardkit.router.ShardingRules;
import io.shardkit.router.TableRule;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Loads and holds the {@link Schema}: for each logical table, the columns of one actual table (its
 * first data node; a broadcast table's first data source; a single table's data source), read from
 * {@code information_schema.COLUMNS} through the shards' Vert.x pools (one query per data source,
 * never blocking). Readers see an immutable snapshot; a reload replaces it.
 */
public final class SchemaCatalog {

  private static final String QUERY =
      "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, COLLATION_NAME"
          + " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (%s)"
          + " ORDER BY TABLE_NAME, ORDINAL_POSITION";

  /** How long statements wait for metadata before they go on without it. */
  static final long LOAD_TIMEOUT_MILLIS = 3_000;

  /** How long a table found absent is not looked up again on first use. */
  private static final long RETRY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

  private final ShardingRules rules;
  private volatile Schema schema = Schema.EMPTY;
  private final java.util.concurrent.ConcurrentHashMap<String, Long> attempts =
      new java.util.concurrent.ConcurrentHashMap<>();

  public SchemaCatalog(ShardingRules rules) {
    this.rules = rules;
  }

  /** A catalog with fixed metadata (for pure planning and tests). */
  public static SchemaCatalog of(ShardingRules rules, Schema schema) {
    SchemaCatalog catalog = new SchemaCatalog(rules);
    catalog.schema = schema;
    return catalog;
  }

  /** The current snapshot. */
  public Schema schema() {
    return schema;
  }

  /**
   * The tables among these that the rules name, whose metadata is unknown and was not looked up in
   * the last few seconds (e.g. created directly on the shards after the pool started): a statement
   * using them reads them first. Marks them as looked up.
   */
  public List<String> unknown(Collection<String> logicalTables) {
    List<String> out = null;
    long now = System.nanoTime();
    for (String table : logicalTables) {
      if (schema.tables().containsKey(table) || nodeOf(table) == null) {
        continue;
      }
      Long last = attempts.get(table);
      if (last != null && now - last < RETRY_NANOS) {
        continue;
      }
      attempts.put(table, now);
      if (out == null) {
        out = new ArrayList<>();
      }
      out.add(table);
    }
    return out == null ? List.of() : out;
  }

  /** Reads every logical table the rules name; tables absent on their shard stay unknown. */
  public Future<Schema> loadAll(Function<String, Pool> pools) {
    List<String> tables = new ArrayList<>(rules.tableRules().keySet());
    tables.addAll(rules.broadcastTables());
    tables.addAll(rules.singleTables().keySet());
    return load(tables, pools);
  }

  /** Reads these logical tables again (after DDL), keeping what is known of the others. */
  public Future<Schema> load(Collection<String> logicalTables, Function<String, Pool> pools) {
    // data source -> actual table -> logical table
    Map<String, Map<String, String>> byDataSource = new LinkedHashMap<>();
    for (String table : logicalTables) {
      String logical = table.toLowerCase(Locale.ROOT);
      DataNode node = nodeOf(logical);
      if (node != null) {
        byDataSource
            .computeIfAbsent(node.dataSource(), ds -> new LinkedHashMap<>())
            .put(node.table().toLowerCase(Locale.ROOT), logical);
      }
    }
    List<Future<Map<String, List<ColumnInfo>>>> reads = new ArrayList<>();
    for (Map.Entry<String, Map<String, String>> e : byDataSource.entrySet()) {
      Pool pool = pools.apply(e.getKey());
      if (pool != null) {
        reads.add(read(pool, e.getValue()));
      }
    }
    // a paused or unreachable shard must not hold statements back: after a few seconds the
    // pool goes on without the missing types (and tries again later)
    return Future.all(reads)
        .timeout(LOAD_TIMEOUT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)
        .map(
            all -> {
              Map<String, List<ColumnInfo>> merged = new HashMap<>(schema.tables());
              for (String table : logicalTables) {
                merged.remove(table.toLowerCase(Locale.ROOT));
              }
              for (int i = 0; i < reads.size(); i++) {
                Map<String, List<ColumnInfo>> part = all.resultAt(i);
                merged.putAll(part);
              }
              Schema next = new Schema(merged);
              schema = next;
              return next;
            });
  }

  private static Future<Map<String, List<ColumnInfo>>> read(
      Pool pool, Map<String, String> actualToLogical) {
    List<Object> names = new ArrayList<>(actualToLogical.keySet());
    String marks = String.join(", ", java.util.Collections.nCopies(names.size(), "?"));
    return pool.preparedQuery(String.format(QUERY, marks))
        .execute(Tuple.wrap(names))
        .map(
            rows -> {
              Map<String, List<ColumnInfo>> out = new HashMap<>();
              for (Row row : rows) {
                String logical = actualToLogical.get(row.getString(0).toLowerCase(Locale.ROOT));
                if (logical == null) {
                  continue;
                }
                out.computeIfAbsent(logical, k -> new ArrayList<>())
                    .add(
                        new ColumnInfo(
                            row.getString(1), row.getString(2), text(row, 3), text(row, 4)));
              }
              return out;
            });
  }

  private static String text(Row row, int i) {
    Object v = row.getValue(i);
    if (v instanceof io.vertx.core.buffer.Buffer b) {
      return b.toString(java.nio.charset.StandardCharsets.UTF_8);
    }
    return v == null ? null : v.toString();
  }

  private DataNode nodeOf(String logical) {
    TableRule rule = rules.tableRule(logical).orElse(null);
    if (rule != null) {
      return rule.dataNodes().isEmpty() ? null : rule.dataNodes().get(0);
    }
    if (rules.isBroadcast(logical)) {
      String ds = rules.dataSourceNames().iterator().next();
      return new DataNode(ds, logical);
    }
    String single = rules.singleTables().get(logical);
    if (single != null) {
      return new DataNode(single, logical);
    }
    return null;
  }
}
