package io.shardkit.benchmarks;

import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabase;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestPostgres;
import io.shardkit.testkit.TestShards;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.pgclient.PgConnectOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The databases every database benchmark runs on, set up in one place: {@value #SHARDS} shard
 * databases ({@code ds_0..ds_3}) and one unsharded database holding the same orders.
 *
 * <p>Data: {@code t_order} ({@value #ORDERS} rows; on the shards, order {@code id} lives on {@code
 * ds_<id mod 4>}; the unsharded database has them all) and {@code account} ({@value
 * #ACCOUNTS_PER_SHARD} per shard, account {@code id} on {@code ds_<id mod 4>}, with the {@code
 * frozen}/{@code incoming} columns TCC reserves in).
 *
 * <p>With PostgreSQL ({@link #create(boolean)}, for {@link PgTransferBenchmark}): one testkit
 * PostgreSQL 14 server ({@code max_prepared_transactions} = {@value #PG_MAX_PREPARED}), database
 * {@code bench}, table {@code account} with accounts {@code 0..}{@value #ACCOUNTS_PER_SHARD}-1.
 *
 * <p>Where they come from: the {@link BenchmarkRunner} starts the shards once (testkit), loads the
 * data and hands every JMH fork a small JSON file named by {@code -D}{@value #ENV_PROPERTY}. A
 * benchmark run without it (plain {@code java -jar benchmarks.jar PointSelectBenchmark}) starts its
 * own testkit shards and loads them itself; {@link #close()} then stops them.
 */
public final class BenchEnv implements AutoCloseable {

  /** System property naming the environment file the runner writes for the forks. */
  public static final String ENV_PROPERTY = "shardkit.bench.env";

  static final int SHARDS = 4;
  static final int ORDERS = 40_000;
  static final int ACCOUNTS_PER_SHARD = 10_000;
  static final long INITIAL_BALANCE = 1_000_000_000L;

  private static final String ORDER_DDL =
      "CREATE TABLE t_order (order_id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL,"
          + " amount INT NOT NULL, status VARCHAR(16) NOT NULL, KEY idx_amount (amount, order_id))"
          + " ENGINE=InnoDB";
  private static final String ACCOUNT_DDL =
      "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
          + " frozen BIGINT NOT NULL DEFAULT 0, incoming BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB";

  /**
   * PostgreSQL's {@code max_prepared_transactions}: above the most XA branches prepared at once (64
   * in flight, plus what recovery may hold).
   */
  static final int PG_MAX_PREPARED = 128;

  static final String PG_DATABASE = "bench";
  private static final String PG_ACCOUNT_DDL =
      "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)";

  private final List<MySQLConnectOptions> shards;
  private final MySQLConnectOptions single;
  private final PgConnectOptions postgres;
  private final AutoCloseable owned;

  private BenchEnv(
      List<MySQLConnectOptions> shards,
      MySQLConnectOptions single,
      PgConnectOptions postgres,
      AutoCloseable owned) {
    this.shards = List.copyOf(shards);
    this.single = single;
    this.postgres = postgres;
    this.owned = owned;
  }

  /**
   * The runner's environment if {@code -D}{@value #ENV_PROPERTY} names one, else fresh testkit
   * shards with the data loaded (closed by {@link #close()}).
   */
  public static BenchEnv open() throws IOException {
    return open(false);
  }

  /**
   * {@link #open()}; with {@code postgres}, fresh databases include a PostgreSQL server, and the
   * runner's environment must have one.
   */
  public static BenchEnv open(boolean postgres) throws IOException {
    String file = System.getProperty(ENV_PROPERTY);
    if (file != null && !file.isBlank()) {
      BenchEnv env = read(Path.of(file));
      if (postgres && env.postgres == null) {
        throw new IllegalStateException(
            "the runner's environment " + file + " has no PostgreSQL server");
      }
      return env;
    }
    return create(postgres);
  }

  /** Starts testkit shards (or uses the configured endpoints) and loads the data. */
  public static BenchEnv create() {
    return create(false);
  }

  /**
   * {@link #create()}; with {@code postgres}, also a testkit PostgreSQL server with its accounts.
   */
  public static BenchEnv create(boolean postgres) {
    TestShards testShards = TestShards.start(SHARDS);
    TestPostgres[] pg = new TestPostgres[1];
    try {
      ShardDatabases databases = testShards.createDatabases("bench", SHARDS);
      Shard first = testShards.shard(0);
      String singleName = databases.get(0).database() + "_single";
      first.execute(null, "CREATE DATABASE `" + singleName + "` CHARACTER SET utf8mb4");
      ShardDatabase singleDb = new ShardDatabase(first, singleName);
      load(databases, singleDb);
      List<MySQLConnectOptions> options = new ArrayList<>();
      for (ShardDatabase db : databases.all()) {
        options.add(db.connectOptions());
      }
      PgConnectOptions pgOptions = null;
      if (postgres) {
        pg[0] = TestPostgres.start(PG_MAX_PREPARED);
        loadPostgres(pg[0]);
        pgOptions = pg[0].connectOptions(PG_DATABASE);
      }
      AutoCloseable owned =
          () -> {
            try {
              first.execute(null, "DROP DATABASE IF EXISTS `" + singleName + "`");
              databases.close();
            } finally {
              try {
                testShards.close();
              } finally {
                if (pg[0] != null) {
                  pg[0].close();
                }
              }
            }
          };
      return new BenchEnv(options, singleDb.connectOptions(), pgOptions, owned);
    } catch (RuntimeException e) {
      testShards.close();
      if (pg[0] != null) {
        pg[0].close();
      }
      throw e;
    }
  }

  private static void loadPostgres(TestPostgres pg) {
    pg.execute("CREATE DATABASE " + PG_DATABASE);
    pg.executeIn(PG_DATABASE, PG_ACCOUNT_DDL);
    List<String> accounts = new ArrayList<>();
    for (int i = 0; i < ACCOUNTS_PER_SHARD; i++) {
      accounts.add("(" + i + "," + INITIAL_BALANCE + ")");
    }
    for (int from = 0; from < accounts.size(); from += 2_000) {
      List<String> chunk = accounts.subList(from, Math.min(accounts.size(), from + 2_000));
      pg.executeIn(PG_DATABASE, "INSERT INTO account VALUES " + String.join(",", chunk));
    }
    pg.executeIn(PG_DATABASE, "VACUUM ANALYZE account");
  }

  static BenchEnv read(Path file) throws IOException {
    JsonObject json = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
    List<MySQLConnectOptions> shards = new ArrayList<>();
    for (Object o : json.getJsonArray("shards")) {
      shards.add(new MySQLConnectOptions((JsonObject) o));
    }
    JsonObject pg = json.getJsonObject("postgres");
    return new BenchEnv(
        shards,
        new MySQLConnectOptions(json.getJsonObject("single")),
        pg == null ? null : new PgConnectOptions(pg),
        null);
  }

  /** Writes the file a fork reads with {@link #read}; the databases stay owned by this instance. */
  void write(Path file) throws IOException {
    JsonArray array = new JsonArray();
    for (MySQLConnectOptions o : shards) {
      array.add(connectJson(o));
    }
    JsonObject json = new JsonObject().put("shards", array).put("single", connectJson(single));
    if (postgres != null) {
      json.put(
          "postgres",
          new JsonObject()
              .put("host", postgres.getHost())
              .put("port", postgres.getPort())
              .put("user", postgres.getUser())
              .put("password", postgres.getPassword() == null ? "" : postgres.getPassword())
              .put("database", postgres.getDatabase()));
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, json.encodePrettily(), StandardCharsets.UTF_8);
  }

  private static JsonObject connectJson(MySQLConnectOptions o) {
    return new JsonObject()
        .put("host", o.getHost())
        .put("port", o.getPort())
        .put("user", o.getUser())
        .put("password", o.getPassword() == null ? "" : o.getPassword())
        .put("database", o.getDatabase());
  }

  private static void load(ShardDatabases shards, ShardDatabase single) {
    shards.executeOnAll(ORDER_DDL, ACCOUNT_DDL);
    single.execute(ORDER_DDL);
    List<List<String>> orderRows = new ArrayList<>();
    for (int s = 0; s < SHARDS; s++) {
      orderRows.add(new ArrayList<>());
    }
    List<String> all = new ArrayList<>();
    for (long id = 0; id < ORDERS; id++) {
      String row = "(" + id + "," + (id % 1000) + "," + amount(id) + ",'s" + (id % 5) + "')";
      orderRows.get((int) (id % SHARDS)).add(row);
      all.add(row);
    }
    for (int s = 0; s < SHARDS; s++) {
      insert(shards.get(s), "INSERT INTO t_order VALUES ", orderRows.get(s));
      List<String> accounts = new ArrayList<>();
      for (int i = 0; i < ACCOUNTS_PER_SHARD; i++) {
        accounts.add("(" + account(s, i) + "," + INITIAL_BALANCE + ",0,0)");
      }
      insert(shards.get(s), "INSERT INTO account VALUES ", accounts);
    }
    insert(single, "INSERT INTO t_order VALUES ", all);
  }

  private static void insert(ShardDatabase db, String head, List<String> rows) {
    for (int from = 0; from < rows.size(); from += 2_000) {
      List<String> chunk = rows.subList(from, Math.min(rows.size(), from + 2_000));
      db.execute(head + String.join(",", chunk));
    }
  }

  /** A deterministic spread of amounts in [0, 100000). */
  static int amount(long orderId) {
    return (int) ((orderId * 7919L) % 100_000L);
  }

  /** The {@code index}-th account on shard {@code shard}. */
  static long account(int shard, int index) {
    return (long) SHARDS * index + shard;
  }

  /** The shard owning order or account {@code id}. */
  static int shardOf(long id) {
    return (int) Math.floorMod(id, (long) SHARDS);
  }

  /** shardkit's rules for this data: both tables by {@code id mod 4} over {@code ds_0..ds_3}. */
  static ShardingRules rules() {
    return ShardingRules.builder()
        .table(
            "t_order", t -> t.dataNodes("ds_${0..3}.t_order").databaseStrategy("order_id", "mod"))
        .table("account", t -> t.dataNodes("ds_${0..3}.account").databaseStrategy("id", "mod"))
        .build();
  }

  /** Connect options of the shard databases, keyed {@code ds_0..ds_3}; each call a fresh copy. */
  Map<String, MySQLConnectOptions> dataSources() {
    Map<String, MySQLConnectOptions> out = new LinkedHashMap<>();
    for (int i = 0; i < shards.size(); i++) {
      out.put("ds_" + i, new MySQLConnectOptions(shards.get(i)).setCachePreparedStatements(true));
    }
    return out;
  }

  /**
   * {@link #dataSources()} with a pipelining limit of 2: for a {@code ShardedPool} whose XA
   * branches pipeline their start with their first statement ({@code pipelineBranchStart}).
   */
  Map<String, MySQLConnectOptions> pipelinedDataSources() {
    Map<String, MySQLConnectOptions> out = dataSources();
    out.values().forEach(o -> o.setPipeliningLimit(2));
    return out;
  }

  /** The unsharded database holding all orders. */
  MySQLConnectOptions single() {
    return new MySQLConnectOptions(single).setCachePreparedStatements(true);
  }

  /**
   * Connect options of the PostgreSQL server's {@code bench} database (prepared statements cached,
   * as the shards'); each call a fresh copy.
   *
   * @throws IllegalStateException when this environment has no PostgreSQL server
   */
  PgConnectOptions postgres() {
    if (postgres == null) {
      throw new IllegalStateException("this benchmark environment has no PostgreSQL server");
    }
    return new PgConnectOptions(postgres).setCachePreparedStatements(true);
  }

  /** A JDBC URL (MySQL Connector/J) for shard {@code index}. */
  String jdbcUrl(int index) {
    MySQLConnectOptions o = shards.get(index);
    return "jdbc:mysql://"
        + o.getHost()
        + ":"
        + o.getPort()
        + "/"
        + o.getDatabase()
        + "?useSSL=false&allowPublicKeyRetrieval=true&useServerPrepStmts=true"
        + "&cachePrepStmts=true&prepStmtCacheSize=256"
        // Connector/J's information_schema metadata asks MySQL-only columns (KEYWORDS.RESERVED)
        // that MariaDB lacks; ShardingSphere reads that metadata at start.
        + "&useInformationSchema=false";
  }

  String user(int index) {
    return shards.get(index).getUser();
  }

  String password(int index) {
    String p = shards.get(index).getPassword();
    return p == null ? "" : p;
  }

  @Override
  public void close() throws Exception {
    if (owned != null) {
      owned.close();
    }
  }
}
