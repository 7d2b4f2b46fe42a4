package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Writes outside a transaction on a pool without a transaction manager, on 2 real shards: {@code
 * t_acct} is split by {@code id} mod 2 over ds_0 and ds_1, {@code t_item} by {@code id} mod 2 over
 * two tables of ds_0, {@code t_conf} is broadcast. A write reaching both data sources is refused
 * before any I/O unless the pool opted in; a write reaching two tables of one data source runs in
 * one local transaction. Outcomes are read from the physical tables.
 */
@Shards(2)
@ExtendWith({ShardsExtension.class, LeakGuardExtension.class})
class AtomicWritesTest {

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardingRules rules;
  SimpleMeterRegistry meters;
  ShardedPool pool;

  @BeforeAll
  static void setUp(ShardDatabases dbs) {
    databases = dbs;
    vertx = Vertx.vertx();
    rules =
        ShardingRules.builder()
            .dataSources("ds_0", "ds_1")
            .table("t_acct", t -> t.dataNodes("ds_${0..1}.t_acct").databaseStrategy("id", "mod"))
            .table("t_item", t -> t.dataNodes("ds_0.t_item_${0..1}").tableStrategy("id", "mod"))
            .broadcastTables("t_conf")
            .build();
    dbs.executeOnAll("CREATE TABLE t_acct (id INT PRIMARY KEY, balance INT NOT NULL)");
    dbs.executeOnAll("CREATE TABLE t_conf (k VARCHAR(10) PRIMARY KEY, v INT NOT NULL)");
    databases.get(0).execute("CREATE TABLE t_item_0 (id INT PRIMARY KEY, name VARCHAR(20))");
    databases.get(0).execute("CREATE TABLE t_item_1 (id INT PRIMARY KEY, name VARCHAR(20))");
    io.shardkit.router.impl.parse.StatementParser.warmUp();
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(vertx.close());
  }

  @BeforeEach
  void newPool() {
    databases.executeOnAll("DELETE FROM t_acct");
    databases.executeOnAll("DELETE FROM t_conf");
    databases.get(0).execute("DELETE FROM t_item_0");
    databases.get(0).execute("DELETE FROM t_item_1");
    meters = new SimpleMeterRegistry();
    pool = build(false);
  }

  ShardedPool build(boolean nonAtomic) {
    return ShardedPool.builder(vertx)
        .rules(rules)
        .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(4))
        .meterRegistry(meters)
        .nonAtomicMultiNodeWrites(nonAtomic)
        .build();
  }

  @AfterEach
  void closePool() throws Exception {
    await(pool.close());
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static Throwable failure(Future<?> future) {
    try {
      await(future);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected a failure");
  }

  static List<String> physical(int shard, String table) {
    return databases.get(shard).query("SELECT * FROM " + table + " ORDER BY 1").stream()
        .map(
            r -> {
              var columns = r.getMap().values().iterator();
              return columns.next() + "=" + columns.next();
            })
        .toList();
  }

  long statementsOn(String ds) {
    return meters.find("shardkit.router.shard.statements").tag("shard", ds).timers().stream()
        .mapToLong(Timer::count)
        .sum();
  }

  @Test
  void multiNodeWritesAreRefusedBeforeAnyIo() throws Exception {
    String insert = "INSERT INTO t_acct (id, balance) VALUES (1, 10), (2, 20)";
    Throwable actual = failure(pool.query(insert).execute());
    assertThat(actual)
        .isInstanceOf(NonAtomicWriteException.class)
        .hasMessageContaining(insert)
        .hasMessageContaining("t_acct")
        .hasMessageContaining("ds_0, ds_1")
        .hasMessageContaining("transactionManager")
        .hasMessageContaining("nonAtomicMultiNodeWrites");
    assertThat(((NonAtomicWriteException) actual).dataSources()).containsExactly("ds_0", "ds_1");

    assertThat(failure(pool.query("UPDATE t_acct SET balance = 0").execute()))
        .isInstanceOf(NonAtomicWriteException.class);
    assertThat(failure(pool.query("INSERT INTO t_conf (k, v) VALUES ('a', 1)").execute()))
        .isInstanceOf(NonAtomicWriteException.class)
        .hasMessageContaining("t_conf");
    assertThat(
            failure(
                pool.preparedQuery("INSERT INTO t_acct (id, balance) VALUES (?, ?)")
                    .executeBatch(List.of(Tuple.of(1, 10), Tuple.of(2, 20)))))
        .as("a batch is one statement group")
        .isInstanceOf(NonAtomicWriteException.class);

    assertThat(statementsOn("ds_0") + statementsOn("ds_1")).isZero();
    assertThat(physical(0, "t_acct")).isEmpty();
    assertThat(physical(1, "t_acct")).isEmpty();
    assertThat(physical(0, "t_conf")).isEmpty();
    assertThat(physical(1, "t_conf")).isEmpty();
  }

  @Test
  void oneDataSourceWritesAndReadsAreUnaffected() throws Exception {
    await(pool.query("INSERT INTO t_acct (id, balance) VALUES (2, 20), (4, 40)").execute());
    await(pool.query("INSERT INTO t_acct (id, balance) VALUES (1, 10)").execute());
    long actualCount =
        await(pool.query("SELECT COUNT(*) FROM t_acct").execute()).iterator().next().getLong(0);
    assertThat(actualCount).isEqualTo(3);
    assertThat(physical(0, "t_acct")).containsExactly("2=20", "4=40");
    assertThat(physical(1, "t_acct")).containsExactly("1=10");
  }

  @Test
  void optInRunsEachNodeInAutocommit() throws Exception {
    await(pool.close());
    pool = build(true);
    await(pool.query("INSERT INTO t_acct (id, balance) VALUES (1, 10), (2, 20)").execute());
    assertThat(physical(0, "t_acct")).containsExactly("2=20");
    assertThat(physical(1, "t_acct")).containsExactly("1=10");

    // what the opt-in accepts: a failure on one node leaves the other's change applied
    Throwable actual =
        failure(
            pool.query("INSERT INTO t_acct (id, balance) VALUES (3, 30), (4, 40), (2, 0)")
                .execute());
    assertThat(actual).isInstanceOf(MySQLException.class);
    assertThat(((MySQLException) actual).getErrorCode()).isEqualTo(1062);
    assertThat(physical(1, "t_acct")).containsExactly("1=10", "3=30");
    assertThat(physical(0, "t_acct")).containsExactly("2=20");
  }

  @Test
  void optInIsReadFromJson() throws Exception {
    JsonObject config =
        new JsonObject()
            .put("rules", new JsonObject().put("defaultDataSource", "ds_0"))
            .put("dataSources", new JsonObject().put("ds_0", new JsonObject().put("port", 1)));
    assertThat(ShardedPool.builder(vertx).config(config).nonAtomicMultiNodeWrites()).isFalse();
    assertThat(
            ShardedPool.builder(vertx)
                .config(config.copy().put("nonAtomicMultiNodeWrites", true))
                .nonAtomicMultiNodeWrites())
        .isTrue();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                ShardedPool.builder(vertx)
                    .config(config.copy().put("nonAtomicMultiNodeWrites", "yes")))
        .isInstanceOf(ShardingConfigurationException.class)
        .hasMessageContaining("nonAtomicMultiNodeWrites");
  }

  @Test
  void severalTablesOfOneDataSourceRunInOneLocalTransaction() throws Exception {
    databases.get(0).execute("INSERT INTO t_item_0 (id, name) VALUES (2, 'old')");
    // id 1 goes to t_item_1, id 2 (a duplicate) to t_item_0, both on ds_0
    Throwable actual =
        failure(pool.query("INSERT INTO t_item (id, name) VALUES (1, 'a'), (2, 'b')").execute());
    assertThat(actual).isInstanceOf(MySQLException.class);
    assertThat(((MySQLException) actual).getErrorCode()).isEqualTo(1062);
    assertThat(physical(0, "t_item_1")).as("the other table is unchanged").isEmpty();
    assertThat(physical(0, "t_item_0")).containsExactly("2=old");

    Throwable actualBatch =
        failure(
            pool.preparedQuery("INSERT INTO t_item (id, name) VALUES (?, ?)")
                .executeBatch(List.of(Tuple.of(3, "c"), Tuple.of(2, "d"))));
    // the driver's batch failure, as from a plain pool's executeBatch
    assertThat(actualBatch).isInstanceOf(io.vertx.mysqlclient.MySQLBatchException.class);
    assertThat(((io.vertx.mysqlclient.MySQLBatchException) actualBatch).getIterationError())
        .hasValueSatisfying(
            new org.assertj.core.api.Condition<>(
                e -> e instanceof MySQLException m && m.getErrorCode() == 1062, "1062"));
    assertThat(physical(0, "t_item_1")).isEmpty();

    await(pool.query("INSERT INTO t_item (id, name) VALUES (5, 'e'), (6, 'f')").execute());
    await(pool.query("UPDATE t_item SET name = 'x'").execute());
    assertThat(physical(0, "t_item_0")).containsExactly("2=x", "6=x");
    assertThat(physical(0, "t_item_1")).containsExactly("5=x");
  }
}
