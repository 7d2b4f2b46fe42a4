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
  private final java.util.concurrent.ConcurrentHashMap<String, Future<CollationWeights>> weights =
      new java.util.concurrent.ConcurrentHashMap<>();
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

  /** A catalog with fixed metadata and collation weights (for pure planning and tests). */
  public static SchemaCatalog of(
      ShardingRules rules, Schema schema, Collection<CollationWeights> weights) {
    SchemaCatalog catalog = of(rules, schema);
    for (CollationWeights w : weights) {
      catalog.weights.put(w.collation(), Future.succeededFuture(w));
    }
    return catalog;
  }

  /** The current snapshot. */
  public Schema schema() {
    return schema;
  }

  /**
   * The per-character weights of a collation used by a hashed string sharding column, or null when
   * they are not loaded (yet, or the collation is not one whose sort keys can be computed per
   * character).
   */
  public CollationWeights weights(String collation) {
    Future<CollationWeights> f = collation == null ? null : weights.get(collation);
    return f != null && f.succeeded() ? f.result() : null;
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
            })
        .compose(next -> loadWeights(next, pools).map(next))
        .timeout(LOAD_TIMEOUT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /**
   * Reads the per-character weights of each collation of a string sharding column that an algorithm
   * hashes (one query per collation, from the shard of that table), unless known. A failure leaves
   * the collation unknown: reads of its keys go to every node, INSERTs are refused.
   */
  private Future<Void> loadWeights(Schema next, Function<String, Pool> pools) {
    List<Future<CollationWeights>> pending = new ArrayList<>();
    for (TableRule rule : rules.tableRules().values()) {
      for (io.shardkit.router.ShardingStrategy strategy :
          java.util.Arrays.asList(
              rule.databaseStrategy().orElse(null), rule.tableStrategy().orElse(null))) {
        if (strategy == null
            || !(strategy.algorithm()
                instanceof io.shardkit.router.impl.algorithm.CollationKeyed)) {
          continue;
        }
        for (String column : strategy.columns()) {
          ColumnInfo info = next.column(rule.logicalTable(), column).orElse(null);
          if (info == null
              || info.kind() != ColumnInfo.Kind.STRING && info.kind() != ColumnInfo.Kind.ENUM
              || !CollationWeights.supported(info.collation())) {
            continue;
          }
          String collation = info.collation().toLowerCase(Locale.ROOT);
          Future<CollationWeights> known = weights.get(collation);
          if (known != null && !known.failed()) {
            pending.add(known);
            continue;
          }
          DataNode node = nodeOf(rule.logicalTable());
          Pool pool = node == null ? null : pools.apply(node.dataSource());
          if (pool == null) {
            continue;
          }
          Future<CollationWeights> load = readWeights(pool, collation);
          weights.put(collation, load);
          pending.add(load);
        }
      }
    }
    return Future.join(pending).<Void>mapEmpty().otherwiseEmpty();
  }

  static Future<CollationWeights> readWeights(Pool pool, String collation) {
    return pool.query(weightsQuery(collation))
        .execute()
        .map(
            rows -> {
              CollationWeights.Builder builder = new CollationWeights.Builder(collation);
              for (Row row : rows) {
                int cp = row.getInteger(0);
                Object w = row.getValue(1);
                boolean kept = row.getInteger(2) != null && row.getInteger(2) == 1;
                byte[] bytes =
                    w instanceof io.vertx.core.buffer.Buffer b
                        ? b.getBytes()
                        : w == null
                            ? null
                            : w.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
                builder.weight(cp, kept ? bytes : null);
              }
              CollationWeights built = builder.build();
              if (built == null) {
                throw new IllegalStateException(
                    collation + ": the server's weights are not per-character units");
              }
              return built;
            });
  }

  /**
   * One row per code point of the table (and per probe beyond it): the code point, the weight of
   * that character in the collation, and whether it survives conversion to the collation's
   * character set. The collation name is one {@link CollationWeights#supported} accepted.
   */
  static String weightsQuery(String collation) {
    String charset = CollationWeights.charset(collation);
    StringBuilder digits = new StringBuilder("SELECT 0");
    for (int i = 1; i < 16; i++) {
      digits.append(" UNION ALL SELECT ").append(i);
    }
    StringBuilder probes = new StringBuilder();
    for (int p : CollationWeights.PROBES) {
      probes.append(" UNION ALL SELECT ").append(p);
    }
    String planes =
        CollationWeights.tableLimit(collation) > 0x10000
            ? "SELECT 0 UNION ALL SELECT 1"
            : "SELECT 0";
    return "WITH d(n) AS ("
        + digits
        + "), p(n) AS ("
        + planes
        + "), c(cp) AS (SELECT p.n * 65536 + a.n * 4096 + b.n * 256 + e.n * 16 + f.n"
        + " FROM p, d a, d b, d e, d f"
        + probes
        + "), x(cp, ch) AS (SELECT cp, CHAR(cp USING utf32) FROM c"
        + " WHERE cp < 55296 OR cp > 57343)"
        + " SELECT cp, WEIGHT_STRING(CONVERT(ch USING "
        + charset
        + ") COLLATE "
        + collation
        + "), CAST(CONVERT(CONVERT(ch USING "
        + charset
        + ") USING utf32) AS BINARY) = CAST(ch AS BINARY) FROM x";
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
