package io.shardkit.router.conformance;

import io.shardkit.router.DataNode;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.router.TableRule;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The databases of one scenario on the testkit shards: one database per data source (several per
 * shard), created from {@code actual_schema.sql} and loaded from {@code actual_data.json}, plus an
 * unsharded reference database loaded from {@code schema.sql} and {@code data.json}. Also reads and
 * restores physical tables for the DML comparison.
 */
final class ScenarioDatabases implements AutoCloseable {

  static final long TIMEOUT_SECONDS = 60;
  private static final java.util.concurrent.atomic.AtomicInteger CREATED =
      new java.util.concurrent.atomic.AtomicInteger();

  private final Scenario scenario;
  private final RuleTranslation translation;
  private final Map<String, ShardDatabase> physical = new LinkedHashMap<>();
  private final Map<String, String> dataSourceByDatabase = new LinkedHashMap<>();
  private final Map<String, Set<String>> existingTables = new LinkedHashMap<>();
  private final Map<DataNode, List<JsonObject>> initialRows = new LinkedHashMap<>();
  private final Map<DataNode, List<String>> snapshots = new LinkedHashMap<>();
  private final Map<String, Pool> direct = new LinkedHashMap<>();
  private final ShardDatabase reference;
  private final Pool referencePool;
  private final Vertx vertx;

  private ScenarioDatabases(
      Scenario scenario,
      RuleTranslation translation,
      List<Shard> shards,
      Vertx vertx,
      String prefix) {
    this.scenario = scenario;
    this.translation = translation;
    this.vertx = vertx;
    int i = 0;
    for (String ds : translation.rules().dataSourceNames()) {
      Shard shard = shards.get(i++ % shards.size());
      physical.put(ds, new ShardDatabase(shard, prefix + sanitize(ds)));
      dataSourceByDatabase.put(translation.databases().get(ds), ds);
    }
    reference = new ShardDatabase(shards.get(0), prefix + "reference");
    referencePool = pool(reference);
  }

  /** Creates and loads the databases; on failure, drops what it created. */
  static ScenarioDatabases create(
      Scenario scenario, RuleTranslation translation, List<Shard> shards, Vertx vertx) {
    String prefix =
        "cf"
            + ProcessHandle.current().pid() % 100_000
            + "n"
            + CREATED.incrementAndGet()
            + "_"
            + abbreviate(scenario.name())
            + "_";
    ScenarioDatabases dbs = new ScenarioDatabases(scenario, translation, shards, vertx, prefix);
    try {
      dbs.createAndLoad();
      return dbs;
    } catch (RuntimeException | Error e) {
      dbs.close();
      throw e;
    }
  }

  private void createAndLoad() {
    List<ShardDatabase> all = new ArrayList<>(physical.values());
    all.add(reference);
    parallel(
        all,
        db ->
            db.shard()
                .execute(
                    null,
                    "DROP DATABASE IF EXISTS `" + db.database() + "`",
                    "CREATE DATABASE `" + db.database() + "` CHARACTER SET utf8mb4"));
    Map<String, List<String>> ddl =
        SqlScripts.physicalDdl(scenario.actualSchemaSql(), dataSourceByDatabase);
    Map<String, List<String>> inserts = new LinkedHashMap<>();
    for (String key : scenario.actualData().fieldNames()) {
      int dot = key.indexOf('.');
      String ds =
          dot < 0 ? null : dataSourceByDatabase.get(key.substring(0, dot).toLowerCase(Locale.ROOT));
      if (ds == null) {
        throw new IllegalArgumentException(
            "actual_data.json: '"
                + key
                + "' is not database.table of a data source database "
                + dataSourceByDatabase.keySet());
      }
      DataNode node = new DataNode(ds, key.substring(dot + 1).toLowerCase(Locale.ROOT));
      List<JsonObject> rows = SqlScripts.rows(scenario.actualData().getJsonArray(key), key);
      initialRows.put(node, rows);
      inserts
          .computeIfAbsent(ds, k -> new ArrayList<>())
          .addAll(SqlScripts.insertStatements(node.table(), rows));
    }
    parallel(
        new ArrayList<>(physical.keySet()),
        ds -> {
          List<String> statements = new ArrayList<>(ddl.getOrDefault(ds, List.of()));
          statements.addAll(inserts.getOrDefault(ds, List.of()));
          physical.get(ds).execute(statements.toArray(String[]::new));
        });
    List<String> referenceStatements = new ArrayList<>(SqlScripts.statements(scenario.schemaSql()));
    for (String table : scenario.data().fieldNames()) {
      referenceStatements.addAll(
          SqlScripts.insertStatements(
              table, SqlScripts.rows(scenario.data().getJsonArray(table), table)));
    }
    reference.execute(referenceStatements.toArray(String[]::new));
    for (var e : physical.entrySet()) {
      Set<String> tables = new LinkedHashSet<>();
      for (JsonObject row :
          e.getValue()
              .query(
                  "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = '"
                      + e.getValue().database()
                      + "'")) {
        tables.add(row.getString("t").toLowerCase(Locale.ROOT));
      }
      existingTables.put(e.getKey(), tables);
      direct.put(e.getKey(), pool(e.getValue()));
    }
    for (DataNode node : initialRows.keySet()) {
      if (!exists(node)) {
        throw new IllegalArgumentException(
            "actual_data.json has rows for " + node + " but actual_schema.sql does not create it");
      }
    }
    checkPlacement();
    for (var e : readNodes(allNodes()).entrySet()) {
      snapshots.put(e.getKey(), Comparison.canonicalRows(e.getValue()));
    }
  }

  /** Every row of actual_data.json must sit on the node the rules compute for it. */
  private void checkPlacement() {
    ShardingRules rules = translation.rules();
    for (var e : initialRows.entrySet()) {
      DataNode node = e.getKey();
      for (TableRule rule : rules.tableRules().values()) {
        if (!rule.dataNodes().contains(node) || !columnRouted(rule)) {
          continue;
        }
        for (JsonObject row : e.getValue()) {
          Optional<String> wrong = misplaced(rule, node, lowerKeys(row));
          if (wrong.isPresent()) {
            throw new IllegalArgumentException(
                "the translated rules disagree with actual_data.json: " + wrong.get());
          }
        }
      }
    }
  }

  static boolean columnRouted(TableRule rule) {
    return rule.databaseStrategy().map(s -> !s.columns().isEmpty()).orElse(true)
        && rule.tableStrategy().map(s -> !s.columns().isEmpty()).orElse(true);
  }

  /** Why a row of a sharded table does not belong on a node, if it does not. */
  Optional<String> misplaced(TableRule rule, DataNode node, Map<String, Object> row) {
    DataNode expected;
    try {
      expected = translation.rules().nodeFor(rule.logicalTable(), row);
    } catch (RuntimeException ex) {
      return Optional.of(rule.logicalTable() + " row " + row + ": " + ex.getMessage());
    }
    if (!expected.equals(node)) {
      return Optional.of(
          rule.logicalTable() + " row " + row + " is on " + node + " but belongs on " + expected);
    }
    return Optional.empty();
  }

  private static Map<String, Object> lowerKeys(JsonObject row) {
    Map<String, Object> out = new LinkedHashMap<>();
    row.forEach(e -> out.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
    return out;
  }

  /** Whether a physical table exists. */
  boolean exists(DataNode node) {
    return existingTables.getOrDefault(node.dataSource(), Set.of()).contains(node.table());
  }

  /** The physical tables of a logical table that exist, in rule order; empty if unknown. */
  List<DataNode> nodesOf(String logicalTable) {
    String t = logicalTable.toLowerCase(Locale.ROOT);
    ShardingRules rules = translation.rules();
    List<DataNode> out = new ArrayList<>();
    Optional<TableRule> rule = rules.tableRule(t);
    if (rule.isPresent()) {
      out.addAll(rule.get().dataNodes());
    } else if (rules.isBroadcast(t)) {
      rules.dataSourceNames().forEach(ds -> out.add(new DataNode(ds, t)));
    } else if (rules.singleTables().containsKey(t)) {
      out.add(new DataNode(rules.singleTables().get(t), t));
    } else if (rules.defaultDataSource().isPresent()) {
      out.add(new DataNode(rules.defaultDataSource().get(), t));
    }
    out.removeIf(n -> !exists(n));
    return out;
  }

  private List<DataNode> allNodes() {
    List<DataNode> out = new ArrayList<>();
    existingTables.forEach((ds, tables) -> tables.forEach(t -> out.add(new DataNode(ds, t))));
    return out;
  }

  /**
   * The rows of physical tables (column names lower case), read directly, not through the router.
   */
  Map<DataNode, List<Map<String, Object>>> readNodes(List<DataNode> nodes) {
    List<Future<RowSet<Row>>> reads = new ArrayList<>();
    for (DataNode node : nodes) {
      reads.add(
          direct.get(node.dataSource()).query("SELECT * FROM `" + node.table() + "`").execute());
    }
    await(Future.all(reads), "reading " + nodes.size() + " physical tables");
    Map<DataNode, List<Map<String, Object>>> out = new LinkedHashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      out.put(nodes.get(i), Comparison.rowMaps(reads.get(i).result()));
    }
    return out;
  }

  /** The canonical rows a physical table held after loading. */
  List<String> snapshot(DataNode node) {
    return snapshots.get(node);
  }

  /** Puts a physical table back to its loaded rows and checks that it is. */
  void restore(DataNode node) {
    List<String> statements = new ArrayList<>();
    statements.add("DELETE FROM `" + node.table() + "`");
    statements.addAll(
        SqlScripts.insertStatements(node.table(), initialRows.getOrDefault(node, List.of())));
    physical.get(node.dataSource()).execute(statements.toArray(String[]::new));
    List<String> now = Comparison.canonicalRows(readNodes(List.of(node)).get(node));
    if (!now.equals(snapshots.get(node))) {
      throw new IllegalStateException("restoring " + node + " did not give back its loaded rows");
    }
  }

  /** The unsharded reference database's pool. */
  Pool reference() {
    return referencePool;
  }

  /** A router over this scenario's data sources (close it after use). */
  ShardedPool router() {
    return router(b -> {});
  }

  /** A router over this scenario's data sources, with more settings (e.g. read replicas). */
  ShardedPool router(java.util.function.Consumer<ShardedPool.Builder> more) {
    ShardedPool.Builder builder =
        ShardedPool.builder(vertx).nonAtomicMultiNodeWrites(true).rules(translation.rules());
    physical.forEach(
        (ds, db) -> builder.dataSource(ds, db.connectOptions(), new PoolOptions().setMaxSize(2)));
    more.accept(builder);
    return builder.build();
  }

  /** The data source whose physical database the corpus calls {@code database}, or null. */
  String dataSourceOfDatabase(String database) {
    return dataSourceByDatabase.get(database.toLowerCase(Locale.ROOT));
  }

  /** Replaces the rows of a logical table in the unsharded reference database. */
  void replaceReferenceRows(String table, JsonArray rows) {
    List<String> statements = new ArrayList<>();
    statements.add("DELETE FROM `" + table + "`");
    statements.addAll(SqlScripts.insertStatements(table, SqlScripts.rows(rows, table)));
    reference.execute(statements.toArray(String[]::new));
  }

  /** The database of each data source on its shard. */
  Map<String, ShardDatabase> physicalDatabases() {
    return java.util.Collections.unmodifiableMap(physical);
  }

  /** Where each data source's database is: {@code ds → shard/database}. */
  Map<String, String> placement() {
    Map<String, String> out = new LinkedHashMap<>();
    physical.forEach((ds, db) -> out.put(ds, db.shard().name() + "/" + db.database()));
    return out;
  }

  private Pool pool(ShardDatabase db) {
    return MySQLBuilder.pool()
        .with(new PoolOptions().setMaxSize(2))
        .connectingTo(db.connectOptions())
        .using(vertx)
        .build();
  }

  @Override
  public void close() {
    direct.values().forEach(p -> p.close());
    referencePool.close();
    List<ShardDatabase> all = new ArrayList<>(physical.values());
    all.add(reference);
    try {
      parallel(
          all, db -> db.shard().execute(null, "DROP DATABASE IF EXISTS `" + db.database() + "`"));
    } catch (RuntimeException e) {
      System.err.println(
          "conformance: could not drop the databases of " + scenario.name() + ": " + e);
    }
  }

  private static <T> void parallel(List<T> items, java.util.function.Consumer<T> work) {
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(4, Math.max(1, items.size())));
    try {
      List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
      for (T item : items) {
        futures.add(pool.submit(() -> work.accept(item)));
      }
      for (var f : futures) {
        f.get(10, TimeUnit.MINUTES);
      }
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("setting up databases timed out", e);
    } finally {
      pool.shutdownNow();
    }
  }

  static <T> T await(Future<T> future, String what) {
    return await(future, what, TIMEOUT_SECONDS);
  }

  static <T> T await(Future<T> future, String what, long seconds) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(what, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(what + ": interrupted", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException(what + ": no answer within " + seconds + " s", e);
    }
  }

  private static String sanitize(String name) {
    return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
  }

  private static String abbreviate(String scenario) {
    String s = sanitize(scenario);
    return s.length() <= 12 ? s : s.substring(0, 12);
  }
}
