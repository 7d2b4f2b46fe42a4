package io.shardkit.router.fuzz;

import io.shardkit.router.DataNode;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.data.Numeric;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One schema with its data, live: a database per data source (spread round robin over the testkit
 * shards) holding the actual tables, one unsharded reference database holding the logical tables, a
 * {@link ShardedPool} over the data sources, and plain pools on the reference and on each data
 * source (to read physical tables behind the router's back).
 */
final class FuzzWorld implements AutoCloseable {

  private static final AtomicInteger CREATED = new AtomicInteger();
  private static final int INSERT_BATCH = 50;

  private final FuzzSchema schema;
  private final ShardingRules rules;
  private final Map<String, ShardDatabase> dataSources = new LinkedHashMap<>();
  private final Map<String, Pool> direct = new LinkedHashMap<>();
  private final ShardDatabase reference;
  private final Pool referencePool;
  private final ShardedPool router;

  private FuzzWorld(FuzzSchema schema, List<Shard> shards, Vertx vertx) {
    this.schema = schema;
    this.rules = ShardingRules.fromJson(schema.rules());
    String prefix =
        "fz" + ProcessHandle.current().pid() % 100_000 + "w" + CREATED.incrementAndGet();
    int i = 0;
    for (String ds : rules.dataSourceNames()) {
      dataSources.put(ds, new ShardDatabase(shards.get(i++ % shards.size()), prefix + "_" + ds));
    }
    reference = new ShardDatabase(shards.get(0), prefix + "_ref");
    ShardedPool.Builder builder =
        ShardedPool.builder(vertx).nonAtomicMultiNodeWrites(true).rules(rules);
    dataSources.forEach(
        (ds, db) -> {
          builder.dataSource(ds, db.connectOptions(), new PoolOptions().setMaxSize(4));
          direct.put(ds, pool(vertx, db));
        });
    router = builder.build();
    referencePool = pool(vertx, reference);
  }

  /** Creates the databases and tables and loads the rows (table → rows in column order). */
  static FuzzWorld create(
      FuzzSchema schema, Map<String, List<List<Object>>> data, List<Shard> shards, Vertx vertx) {
    FuzzWorld world = new FuzzWorld(schema, shards, vertx);
    try {
      world.createDatabases();
      data.forEach(world::load);
      return world;
    } catch (RuntimeException | Error e) {
      world.close();
      throw e;
    }
  }

  private static Pool pool(Vertx vertx, ShardDatabase db) {
    return MySQLBuilder.pool()
        .with(new PoolOptions().setMaxSize(2))
        .connectingTo(db.connectOptions())
        .using(vertx)
        .build();
  }

  private void createDatabases() {
    List<ShardDatabase> all = new ArrayList<>(dataSources.values());
    all.add(reference);
    for (ShardDatabase db : all) {
      db.shard()
          .execute(
              null,
              "DROP DATABASE IF EXISTS `" + db.database() + "`",
              "CREATE DATABASE `"
                  + db.database()
                  + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
    }
    for (FuzzTable table : schema.tables()) {
      reference.execute(table.ddl(table.name()));
      for (DataNode node : nodes(table)) {
        dataSources.get(node.dataSource()).execute(table.ddl(node.table()));
      }
    }
  }

  /** The actual tables of a logical table (one per data source for broadcast tables). */
  List<DataNode> nodes(FuzzTable table) {
    return switch (table.distribution()) {
      case SHARDED -> rules.tableRule(table.name()).orElseThrow().dataNodes();
      case BROADCAST ->
          dataSources.keySet().stream().map(ds -> new DataNode(ds, table.name())).toList();
      case SINGLE -> List.of(new DataNode(FuzzSchema.SINGLE_DATA_SOURCE, table.name()));
    };
  }

  /**
   * The node a row belongs on (its key, and for the complex-hash-mod table {@code c1}, read as the
   * column's type); broadcast tables: null.
   */
  DataNode nodeOf(FuzzTable table, List<Object> row) {
    Object key = plain(row.get(1));
    if (table.name().equals(FuzzSchema.COMPLEX_STRING)) {
      Object second = plain(row.get(2));
      if (!(key instanceof String text) || second == null) {
        throw new IllegalArgumentException("no node for " + key + ", " + second);
      }
      java.util.zip.CRC32 crc = new java.util.zip.CRC32();
      crc.update(sortKey(table.key().type(), text));
      crc.update('|');
      crc.update(
          io.shardkit.router.impl.algorithm.ShardingValues.canonical(second)
              .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return new DataNode("ds_" + (crc.getValue() % dataSources.size()), table.name());
    }
    if (table.name().equals(FuzzSchema.COMPLEX)) {
      Map<String, Object> values = new java.util.HashMap<>();
      values.put("k", key);
      values.put("c1", plain(row.get(2)));
      return rules.nodeFor(table.name(), values);
    }
    if (table.distribution() == FuzzTable.Distribution.SHARDED
        && table.key().type().isString()
        && key instanceof String text) {
      return stringKeyNode(table, text);
    }
    if (table.distribution() == FuzzTable.Distribution.SHARDED && FuzzSchema.normalizedKey(table)) {
      if (key instanceof io.vertx.core.buffer.Buffer b) {
        key = b.toString(java.nio.charset.StandardCharsets.UTF_8);
      }
      if (!(key instanceof String text)) {
        throw new IllegalArgumentException("no node for " + key);
      }
      return storedTextNode(table, text);
    }
    return switch (table.distribution()) {
      case SHARDED -> rules.nodeFor(table.name(), Map.of("k", key));
      case BROADCAST -> null;
      case SINGLE -> nodes(table).get(0);
    };
  }

  private static Object plain(Object key) {
    if (key instanceof Numeric n) {
      // a DECIMAL key reads back as a Numeric too: keep its fraction
      java.math.BigDecimal d = n.bigDecimalValue();
      return d.stripTrailingZeros().scale() <= 0 ? n.bigIntegerValue() : d;
    }
    if (key instanceof Integer || key instanceof Short) {
      return ((Number) key).longValue();
    }
    return key;
  }

  /**
   * The node of a UUID or INET6 key under hash-mod, computed independently of the router: CRC32 of
   * the UTF-8 bytes of the text the server stores (a UUID lower case with hyphens at 8-4-4-4-12, as
   * the README documents; an INET6 key is never hashed by the router, whose reads go to every node,
   * so its rows are placed the same way, by the stored text), mod the data sources for the database
   * and mod 2 for the table when the rule has a table strategy.
   */
  private DataNode storedTextNode(FuzzTable table, String text) {
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    long h = crc.getValue();
    String actual =
        table.rule().containsKey("tableStrategy") ? table.name() + "_" + (h % 2) : table.name();
    return new DataNode("ds_" + (h % dataSources.size()), actual);
  }

  private final Map<String, DataNode> stringKeyNodes = new java.util.HashMap<>();

  /**
   * The node of a string key under hash-mod, computed independently of the router: CRC32 of the
   * key's WEIGHT_STRING in the column's collation as the reference server returns it, trailing
   * space weights removed under PAD SPACE (what the README documents), mod the data sources for the
   * database and mod 2 for the table.
   */
  private DataNode stringKeyNode(FuzzTable table, String key) {
    ColumnType type = table.key().type();
    return stringKeyNodes.computeIfAbsent(
        table.name() + "\u0000" + key,
        k -> {
          java.util.zip.CRC32 crc = new java.util.zip.CRC32();
          crc.update(sortKey(type, key));
          long h = crc.getValue();
          return new DataNode("ds_" + (h % dataSources.size()), table.name() + "_" + (h % 2));
        });
  }

  /**
   * The key's WEIGHT_STRING in the column's collation as the reference server returns it (a CHAR
   * value without its trailing spaces, which the column does not store), trailing space weights
   * removed under PAD SPACE.
   */
  private byte[] sortKey(ColumnType type, String key) {
    String stored = type.isChar() ? key.replaceAll(" +$", "") : key;
    return sortKeys.computeIfAbsent(
        type.collation() + "\u0000" + stored,
        k -> {
          String collation = type.collation();
          String charset = type.charset();
          io.vertx.core.json.JsonObject row =
              reference
                  .query(
                      "SELECT HEX(WEIGHT_STRING(CONVERT("
                          + SqlText.literal(stored)
                          + " USING "
                          + charset
                          + ") COLLATE "
                          + collation
                          + ")) AS w, HEX(WEIGHT_STRING(CONVERT(' ' USING "
                          + charset
                          + ") COLLATE "
                          + collation
                          + ")) AS sp")
                  .get(0);
          java.util.HexFormat hex = java.util.HexFormat.of();
          byte[] weight = hex.parseHex(row.getString("w"));
          byte[] space = hex.parseHex(row.getString("sp"));
          int size = weight.length;
          if (!collation.contains("nopad")) {
            while (size >= space.length
                && java.util.Arrays.equals(
                    weight, size - space.length, size, space, 0, space.length)) {
              size -= space.length;
            }
          }
          return java.util.Arrays.copyOf(weight, size);
        });
  }

  private final Map<String, byte[]> sortKeys = new java.util.HashMap<>();

  /** Replaces a table's rows on the reference and on its actual tables. */
  void load(String tableName, List<List<Object>> tableRows) {
    FuzzTable table = schema.table(tableName);
    reference.execute("DELETE FROM `" + tableName + "`");
    Map<DataNode, List<List<Object>>> byNode = new LinkedHashMap<>();
    for (DataNode node : nodes(table)) {
      dataSources.get(node.dataSource()).execute("DELETE FROM `" + node.table() + "`");
      byNode.put(node, new ArrayList<>());
    }
    List<List<Object>> placed = new ArrayList<>();
    for (List<Object> row : tableRows) {
      DataNode node;
      try {
        node = nodeOf(table, row);
      } catch (RuntimeException e) {
        continue; // the rules cannot place it (already reported): keep it out of both sides
      }
      placed.add(row);
      if (node == null) {
        byNode.values().forEach(r -> r.add(row));
      } else {
        byNode.get(node).add(row);
      }
    }
    insert(reference, table, tableName, placed);
    byNode.forEach((node, r) -> insert(dataSources.get(node.dataSource()), table, node.table(), r));
  }

  private static void insert(
      ShardDatabase db, FuzzTable table, String actual, List<List<Object>> tableRows) {
    for (int from = 0; from < tableRows.size(); from += INSERT_BATCH) {
      StringBuilder sql =
          new StringBuilder("INSERT INTO `" + actual + "` (" + table.columnList() + ") VALUES ");
      List<List<Object>> batch =
          tableRows.subList(from, Math.min(tableRows.size(), from + INSERT_BATCH));
      for (int r = 0; r < batch.size(); r++) {
        sql.append(r == 0 ? "(" : ", (");
        List<Object> row = batch.get(r);
        for (int c = 0; c < row.size(); c++) {
          sql.append(c == 0 ? "" : ", ").append(SqlText.literal(row.get(c)));
        }
        sql.append(")");
      }
      db.execute(sql.toString());
    }
  }

  /** Reads a table's current rows on the reference, in column order. */
  List<List<Object>> referenceRows(FuzzTable table) {
    return values(
        Await.result(
            referencePool.query("SELECT " + table.columnList() + " FROM " + table.name()).execute(),
            "reading reference " + table.name()));
  }

  /** Reads each actual table directly on its data source. */
  Map<DataNode, List<List<Object>>> physicalRows(FuzzTable table) {
    Map<DataNode, List<List<Object>>> out = new LinkedHashMap<>();
    for (DataNode node : nodes(table)) {
      Future<RowSet<Row>> f =
          direct
              .get(node.dataSource())
              .query("SELECT " + table.columnList() + " FROM `" + node.table() + "`")
              .execute();
      out.put(node, values(Await.result(f, "reading " + node)));
    }
    return out;
  }

  static List<List<Object>> values(RowSet<Row> rowSet) {
    List<List<Object>> out = new ArrayList<>();
    for (Row row : rowSet) {
      List<Object> r = new ArrayList<>(row.size());
      for (int i = 0; i < row.size(); i++) {
        r.add(row.getValue(i));
      }
      out.add(r);
    }
    return out;
  }

  FuzzSchema schema() {
    return schema;
  }

  ShardingRules rules() {
    return rules;
  }

  ShardedPool router() {
    return router;
  }

  Pool reference() {
    return referencePool;
  }

  @Override
  public void close() {
    try {
      router.close();
    } catch (RuntimeException e) {
      // closing is best effort; the databases are dropped below
    }
    direct.values().forEach(Pool::close);
    referencePool.close();
    List<ShardDatabase> all = new ArrayList<>(dataSources.values());
    all.add(reference);
    for (ShardDatabase db : all) {
      if (db.shard().isRunning() && !db.shard().isPaused()) {
        db.shard().execute(null, "DROP DATABASE IF EXISTS `" + db.database() + "`");
      }
    }
  }
}
