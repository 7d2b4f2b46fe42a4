package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.spi.ShardTransaction;
import io.shardkit.router.spi.ShardTransactionManager;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The pool's side of the transaction-manager seam, with a test-only manager on real connections (a
 * local transaction per data source, committed one after the other: not atomic, which is
 * reactive-tx's job). Checks that the pool begins through the manager with the deadline, routes
 * every unit through {@code clientFor} and ends the manager's transaction.
 */
@Shards(2)
@ExtendWith({ShardsExtension.class, LeakGuardExtension.class})
class TransactionManagerSeamTest {

  static final String INSERT = "INSERT INTO t_seam (id, v) VALUES (?, ?)";

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardedPool pool;
  static final List<Duration> timeouts = new CopyOnWriteArrayList<>();
  static final List<String> enlisted = new CopyOnWriteArrayList<>();
  static volatile boolean closed;

  @BeforeAll
  static void setUp(ShardDatabases dbs) {
    databases = dbs;
    vertx = Vertx.vertx();
    dbs.executeOnAll("CREATE TABLE t_seam (id INT PRIMARY KEY, v INT NOT NULL)");
    io.shardkit.router.impl.parse.StatementParser.warmUp();
    pool =
        ShardedPool.builder(vertx)
            .rules(
                ShardingRules.builder()
                    .table(
                        "t_seam",
                        t -> t.dataNodes("ds_${0..1}.t_seam").databaseStrategy("id", "mod"))
                    .build())
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .transactionTimeout(Duration.ofSeconds(7))
            .transactionManager(TestManager::new)
            .build();
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(pool.close());
    assertThat(closed).as("closing the pool closes the manager").isTrue();
    await(vertx.close());
  }

  @BeforeEach
  void clean() {
    databases.executeOnAll("DELETE FROM t_seam");
    timeouts.clear();
    enlisted.clear();
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static List<Object> ids(int shard) {
    return databases.get(shard).query("SELECT id FROM t_seam ORDER BY id").stream()
        .map(r -> r.getValue("id"))
        .toList();
  }

  @Test
  void aTransactionWithAManagerReachesEveryShardThroughIt() throws Exception {
    Long actual =
        await(
            pool.withTransaction(
                conn ->
                    conn.preparedQuery(INSERT)
                        .executeBatch(List.of(Tuple.of(1, 1), Tuple.of(2, 2), Tuple.of(3, 3)))
                        .compose(v -> conn.query("SELECT COUNT(*) FROM t_seam").execute())
                        .map(rs -> rs.iterator().next().getLong(0))));

    assertThat(actual).as("the scatter read sees the transaction's own rows").isEqualTo(3L);
    assertThat(timeouts).hasSize(1);
    assertThat(timeouts.get(0)).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(7));
    assertThat(enlisted).containsExactlyInAnyOrder("ds_0", "ds_1");
    assertThat(ids(0)).containsExactly(2);
    assertThat(ids(1)).containsExactly(1, 3);
  }

  @Test
  void aFailureRollsBackTheManagersTransactionAndAnExplicitTimeoutIsPassedOn() throws Exception {
    Throwable actual = null;
    try {
      await(
          pool.withTransaction(
              Duration.ofSeconds(3),
              conn ->
                  conn.preparedQuery(INSERT)
                      .execute(Tuple.of(1, 1))
                      .compose(v -> conn.preparedQuery(INSERT).execute(Tuple.of(2, 2)))
                      .compose(v -> Future.failedFuture(new IllegalStateException("undo")))));
    } catch (ExecutionException e) {
      actual = e.getCause();
    }
    assertThat(actual).hasMessage("undo");
    assertThat(timeouts.get(0)).isLessThanOrEqualTo(Duration.ofSeconds(3));
    assertThat(ids(0)).isEmpty();
    assertThat(ids(1)).isEmpty();
  }

  @Test
  void beginOnAConnectionGoesThroughTheManager() throws Exception {
    SqlConnection conn = await(pool.getConnection());
    try {
      var tx = await(conn.begin());
      await(conn.preparedQuery(INSERT).execute(Tuple.of(5, 5)));
      await(conn.preparedQuery(INSERT).execute(Tuple.of(6, 6)));
      await(tx.commit());
      await(tx.completion());
    } finally {
      await(conn.close());
    }
    assertThat(timeouts).containsExactly(Duration.ofSeconds(7));
    assertThat(ids(0)).containsExactly(6);
    assertThat(ids(1)).containsExactly(5);
  }

  /** One local transaction per data source, ended one after the other. */
  static final class TestManager implements ShardTransactionManager {
    private final ShardedPool owner;

    TestManager(ShardedPool owner) {
      this.owner = owner;
    }

    @Override
    public Future<ShardTransaction> begin(ShardedPool pool, Duration timeout) {
      assertThat(pool).isSameAs(owner);
      timeouts.add(timeout);
      return Future.succeededFuture(new TestTransaction(pool));
    }

    @Override
    public Future<Void> close() {
      closed = true;
      return Future.succeededFuture();
    }
  }

  static final class TestTransaction implements ShardTransaction {
    private final ShardedPool pool;
    private final Map<String, Future<SqlConnection>> connections = new LinkedHashMap<>();
    private final Promise<Void> completion = Promise.promise();

    TestTransaction(ShardedPool pool) {
      this.pool = pool;
    }

    @Override
    public String globalId() {
      return "test-tx";
    }

    @Override
    public synchronized Future<SqlClient> clientFor(String dataSource) {
      return connections
          .computeIfAbsent(
              dataSource,
              ds -> {
                enlisted.add(ds);
                return pool.pool(ds).getConnection().compose(c -> c.begin().map(tx -> c));
              })
          .map(c -> c);
    }

    private Future<Void> end(boolean commit) {
      List<Future<Void>> ends = new ArrayList<>();
      for (Future<SqlConnection> f : connections.values()) {
        ends.add(
            f.compose(
                c ->
                    (commit ? c.transaction().commit() : c.transaction().rollback())
                        .eventually(c::close)));
      }
      Future<Void> all = Future.all(ends).mapEmpty();
      return all.andThen(
          ar -> {
            if (commit && ar.succeeded()) {
              completion.tryComplete();
            } else {
              completion.tryFail("rolled back");
            }
          });
    }

    @Override
    public Future<Void> commit() {
      return end(true);
    }

    @Override
    public Future<Void> rollback() {
      return end(false);
    }

    @Override
    public Future<Void> completion() {
      return completion.future();
    }

    @Override
    public void onCommit(Runnable hook) {}

    @Override
    public void onRollback(Runnable hook) {}
  }
}
