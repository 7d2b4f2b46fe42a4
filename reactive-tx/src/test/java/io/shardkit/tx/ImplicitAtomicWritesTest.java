package io.shardkit.tx;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.mysqlclient.MySQLBatchException;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A write outside a transaction that reaches several data sources, on a ShardedPool built with
 * reactive-tx's manager: it runs as an implicit atomic transaction, so a failure on one node leaves
 * every node unchanged and fails with that node's own error, as one database would. {@code account}
 * is split by {@code id} mod 2 (even ids on ds_0, odd on ds_1); {@code t_config} is broadcast.
 * Outcomes are read from every physical table.
 */
@Shards(2)
@ExtendWith({ShardsExtension.class, LeakGuardExtension.class})
class ImplicitAtomicWritesTest {

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardedPool pool;

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    databases = dbs;
    vertx =
        Vertx.vertx(
            new VertxOptions()
                .setBlockedThreadCheckInterval(200)
                .setMaxEventLoopExecuteTime(200)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
    dbs.executeOnAll(
        "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
            + " note VARCHAR(5) NOT NULL) ENGINE=InnoDB",
        "CREATE TABLE t_config (k VARCHAR(32) PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB");
    ShardingRules rules =
        ShardingRules.builder()
            .table("account", t -> t.dataNodes("ds_${0..1}.account").databaseStrategy("id", "mod"))
            .broadcastTables("t_config")
            .build();
    AtomicReference<Transactions> manager = new AtomicReference<>();
    pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .transactionManager(
                p -> {
                  manager.set(Transactions.create(vertx, p, TransactionsOptions.of("ds_0")));
                  return manager.get();
                })
            .build();
    await(manager.get().installSchema());
    io.shardkit.router.impl.parse.StatementParser.warmUp();
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(pool.close());
    await(vertx.close());
  }

  @BeforeEach
  void reset() {
    databases.executeOnAll("DELETE FROM account", "DELETE FROM t_config");
    databases.get(0).execute("INSERT INTO account VALUES (2, 100, 'a'), (4, 100, 'b')");
    databases.get(1).execute("INSERT INTO account VALUES (1, 100, 'abc'), (3, 100, 'a')");
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** The server's error; a batch fails as a plain pool's does, with the tuple's error inside. */
  static MySQLException mysqlFailure(Future<?> future) {
    try {
      await(future);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof MySQLBatchException batch) {
        assertThat(batch.getIterationError()).hasSize(1);
        cause = batch.getIterationError().values().iterator().next();
      }
      assertThat(cause).isInstanceOf(MySQLException.class);
      return (MySQLException) cause;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected a failure");
  }

  static List<String> physical(int shard, String table) {
    return databases.get(shard).query("SELECT * FROM " + table + " ORDER BY 1").stream()
        .map(r -> r.getValue(r.fieldNames().iterator().next()) + ":" + r.encode())
        .toList();
  }

  static List<List<String>> everyAccount() {
    return List.of(physical(0, "account"), physical(1, "account"));
  }

  @Test
  void multiRowInsertWithOneDuplicateLeavesEveryNodeUnchanged() throws Exception {
    List<List<String>> expected = everyAccount();
    // 5 and 6 are new, 2 (on ds_0) is a duplicate
    MySQLException actual =
        mysqlFailure(
            pool.query(
                    "INSERT INTO account (id, balance, note) VALUES (5, 1, 'n'), (6, 1, 'n'),"
                        + " (2, 1, 'n')")
                .execute());
    assertThat(actual.getErrorCode()).isEqualTo(1062);
    assertThat(everyAccount()).isEqualTo(expected);
  }

  @Test
  void updateFailingOnOneNodeLeavesEveryNodeUnchanged() throws Exception {
    List<List<String>> expected = everyAccount();
    // 'abc' on ds_1 becomes 6 characters in a VARCHAR(5): strict mode refuses it (1406); the
    // rows of ds_0 fit
    MySQLException actual =
        mysqlFailure(
            pool.query("UPDATE account SET note = CONCAT(note, 'xyz'), balance = 0").execute());
    assertThat(actual.getErrorCode()).isEqualTo(1406);
    assertThat(everyAccount()).isEqualTo(expected);
  }

  @Test
  void broadcastWriteFailingOnOneCopyLeavesEveryCopyUnchanged() throws Exception {
    databases.get(1).execute("INSERT INTO t_config VALUES ('k1', 'only-on-ds_1')");
    MySQLException actual =
        mysqlFailure(pool.query("INSERT INTO t_config (k, v) VALUES ('k1', 'new')").execute());
    assertThat(actual.getErrorCode()).isEqualTo(1062);
    assertThat(physical(0, "t_config")).isEmpty();
    assertThat(physical(1, "t_config")).hasSize(1).first().asString().contains("only-on-ds_1");
  }

  @Test
  void batchFailingOnOneNodeLeavesEveryNodeUnchanged() throws Exception {
    List<List<String>> expected = everyAccount();
    MySQLException actual =
        mysqlFailure(
            pool.preparedQuery("INSERT INTO account (id, balance, note) VALUES (?, ?, ?)")
                .executeBatch(
                    List.of(Tuple.of(7, 1, "n"), Tuple.of(8, 1, "n"), Tuple.of(3, 1, "n"))));
    assertThat(actual.getErrorCode()).isEqualTo(1062);
    assertThat(everyAccount()).isEqualTo(expected);
  }

  @Test
  void successfulMultiNodeWritesCommitEverywhere() throws Exception {
    int actualInserted =
        await(
                pool.query(
                        "INSERT INTO account (id, balance, note) VALUES (5, 1, 'n'), (6, 1, 'n')")
                    .execute())
            .rowCount();
    assertThat(actualInserted).isEqualTo(2);
    int actualUpdated =
        await(pool.query("UPDATE account SET balance = balance + 1").execute()).rowCount();
    assertThat(actualUpdated).isEqualTo(6);
    await(pool.query("INSERT INTO t_config (k, v) VALUES ('k2', 'both')").execute());
    await(
        pool.preparedQuery("INSERT INTO account (id, balance, note) VALUES (?, ?, ?)")
            .executeBatch(List.of(Tuple.of(7, 7, "n"), Tuple.of(8, 8, "n"))));

    assertThat(databases.get(0).query("SELECT id, balance FROM account ORDER BY id").toString())
        .isEqualTo(
            "[{\"id\":2,\"balance\":101}, {\"id\":4,\"balance\":101}, {\"id\":6,\"balance\":2},"
                + " {\"id\":8,\"balance\":8}]");
    assertThat(databases.get(1).query("SELECT id, balance FROM account ORDER BY id").toString())
        .isEqualTo(
            "[{\"id\":1,\"balance\":101}, {\"id\":3,\"balance\":101}, {\"id\":5,\"balance\":2},"
                + " {\"id\":7,\"balance\":7}]");
    assertThat(physical(0, "t_config")).hasSize(1);
    assertThat(physical(1, "t_config")).hasSize(1);
  }
}
