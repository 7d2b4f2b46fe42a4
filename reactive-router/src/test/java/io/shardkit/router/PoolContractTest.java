package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.TransactionPropagation;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A repository written only against {@link Pool} gives the same results on a plain Vert.x MySQL
 * pool and on a ShardedPool whose tables are a single table (one data source) and a broadcast table
 * (a copy on each).
 */
@Shards(2)
@ExtendWith({ShardsExtension.class, LeakGuardExtension.class})
class PoolContractTest {

  static final String ACCOUNT =
      "CREATE TABLE account (id INT PRIMARY KEY, owner VARCHAR(32), balance INT)";
  static final String CURRENCY =
      "CREATE TABLE currency (code CHAR(3) PRIMARY KEY, name VARCHAR(32))";

  static Vertx vertx;
  static Pool plain;
  static ShardedPool sharded;

  @BeforeAll
  static void setUp(ShardDatabases dbs) {
    vertx = Vertx.vertx();
    dbs.executeOnAll(ACCOUNT, CURRENCY);
    io.shardkit.router.impl.parse.StatementParser.warmUp();
    sharded =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(
                ShardingRules.builder()
                    .dataSources("ds_0", "ds_1")
                    .singleTable("account", "ds_1")
                    .broadcastTables("currency")
                    .build())
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .build();
    // the plain pool works on a database of its own: a third database on shard 0
    dbs.get(0).execute("CREATE DATABASE contract_plain");
    dbs.get(0)
        .execute(
            "CREATE TABLE contract_plain.account (id INT PRIMARY KEY, owner VARCHAR(32), balance INT)");
    dbs.get(0)
        .execute(
            "CREATE TABLE contract_plain.currency (code CHAR(3) PRIMARY KEY, name VARCHAR(32))");
    plain =
        MySQLBuilder.pool()
            .with(new PoolOptions().setMaxSize(4))
            .connectingTo(dbs.get(0).connectOptions().setDatabase("contract_plain"))
            .using(vertx)
            .build();
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(sharded.close());
    await(plain.close());
    await(vertx.close());
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void theSameRepositoryGivesTheSameResults() throws Exception {
    List<String> expected = await(new Repository(plain).scenario());
    List<String> actual = await(new Repository(sharded).scenario());
    assertThat(actual).isEqualTo(expected);
    assertThat(expected).hasSize(7);
  }

  /** Application code that knows only {@link Pool}. */
  static final class Repository {
    private final Pool pool;

    Repository(Pool pool) {
      this.pool = pool;
    }

    Future<List<String>> scenario() {
      List<String> log = new ArrayList<>();
      // a broadcast write reaches every data source: outside a transaction (see the README)
      return pool.preparedQuery("INSERT INTO currency (code, name) VALUES (?, ?)")
          .executeBatch(List.of(Tuple.of("EUR", "euro"), Tuple.of("CHF", "franc")))
          .compose(
              v ->
                  pool.withTransaction(
                      conn ->
                          conn.preparedQuery(
                                  "INSERT INTO account (id, owner, balance) VALUES (?, ?, ?)")
                              .executeBatch(
                                  List.of(Tuple.of(1, "ann", 100), Tuple.of(2, "bob", 50)))))
          .compose(v -> transfer(1, 2, 30))
          .compose(
              v ->
                  transfer(2, 1, 500)
                      .otherwise(
                          e -> {
                            log.add("refused: " + e.getMessage());
                            return null;
                          }))
          .compose(
              v ->
                  pool.withConnection(
                      conn ->
                          conn.begin()
                              .compose(
                                  tx ->
                                      conn.preparedQuery(
                                              "UPDATE account SET owner = ? WHERE id = ?")
                                          .execute(Tuple.of("zed", 2))
                                          .compose(
                                              rs -> {
                                                log.add("renamed " + rs.rowCount());
                                                return tx.rollback();
                                              }))))
          .compose(
              v ->
                  pool.preparedQuery("SELECT id, owner, balance FROM account ORDER BY id")
                      .execute())
          .map(
              rows -> {
                for (Row row : rows) {
                  log.add(
                      row.getInteger("id")
                          + " "
                          + row.getString("owner")
                          + " "
                          + row.getInteger("balance"));
                }
                return log;
              })
          .compose(v -> pool.query("SELECT code, name FROM currency ORDER BY code").execute())
          .map(
              rows -> {
                for (Row row : rows) {
                  log.add(row.getString("code") + " " + row.getString("name"));
                }
                log.add("size>0 " + (pool.size() >= 0));
                return log;
              });
    }

    Future<Void> transfer(int from, int to, int amount) {
      return pool.withTransaction(
          TransactionPropagation.CONTEXT,
          conn ->
              conn.preparedQuery(
                      "UPDATE account SET balance = balance - ? WHERE id = ? AND balance >= ?")
                  .execute(Tuple.of(amount, from, amount))
                  .compose(
                      rs ->
                          rs.rowCount() == 1
                              ? conn.preparedQuery(
                                      "UPDATE account SET balance = balance + ? WHERE id = ?")
                                  .execute(Tuple.of(amount, to))
                              : Future.failedFuture("insufficient funds on " + from))
                  .mapEmpty());
    }
  }
}
