package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;

/**
 * What makes a branch's pipelined start safe, on a real server: the statement sent right behind a
 * start that fails (here {@code XA START} of an xid already prepared: XAER_DUPID) must not commit.
 * With the session's {@code autocommit=0} it waits uncommitted and goes with the connection; a
 * plain pipelined {@code XA START} would have let it autocommit (shown beside it, as the reason).
 */
@Shards(1)
class PipelinedStartTest {

  @Test
  void aStatementBehindAFailedPipelinedStartIsNeverCommitted(ShardDatabases dbs) throws Exception {
    dbs.executeOnAll("CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)");
    dbs.get(0).execute("INSERT INTO account VALUES (1, 100), (3, 100), (5, 100)");
    Xid taken = new Xid("pipelinedstart0000000000001", "ds_0", Long.MAX_VALUE / 2);
    // another session holds this xid prepared: any XA START of it fails with 1440
    dbs.get(0)
        .execute(
            "XA START " + taken.sql(),
            "UPDATE account SET balance = balance - 1 WHERE id = 1",
            "XA END " + taken.sql(),
            "XA PREPARE " + taken.sql());
    Vertx vertx = Vertx.vertx();
    try {
      MySQLConnectOptions connect =
          new MySQLConnectOptions(dbs.get(0).connectOptions()).setPipeliningLimit(16);
      Pool pool =
          MySQLBuilder.pool()
              .with(new PoolOptions().setMaxSize(2))
              .connectingTo(connect)
              .using(vertx)
              .build();

      // as the coordinator does it: SET autocommit=0; XA START, the statement right behind
      Branch safe = new Branch("ds_0", taken, false, false);
      safe.autocommitOff = true;
      safe.conn = await(pool.getConnection());
      Future<?> start = safe.xa(safe.startSql(null));
      Future<?> behind = update(safe.conn, 3);
      assertThat(SqlErrors.code(failure(start))).isEqualTo(1440);
      assertThat(behind.toCompletionStage().toCompletableFuture().get().toString()).isNotNull();
      await(safe.release(false)); // what the coordinator does with a branch it cannot trust
      assertThat(balance(dbs, 3)).as("never committed").isEqualTo(100);

      // the reason for autocommit=0: a bare pipelined XA START lets the statement autocommit
      SqlConnection bare = await(pool.getConnection());
      Future<?> bareStart = bare.query("XA START " + taken.sql()).execute();
      Future<?> bareBehind = update(bare, 5);
      assertThat(SqlErrors.code(failure(bareStart))).isEqualTo(1440);
      await(bareBehind);
      await(bare.close());
      assertThat(balance(dbs, 5)).as("committed on its own").isEqualTo(101);
      await(pool.close());
    } finally {
      dbs.get(0).execute("XA ROLLBACK " + taken.sql());
      await(vertx.close());
    }
  }

  private static Future<?> update(SqlConnection conn, long id) {
    return conn.preparedQuery("UPDATE account SET balance = balance + 1 WHERE id = ?")
        .execute(Tuple.of(id));
  }

  private static long balance(ShardDatabases dbs, long id) {
    return dbs.get(0)
        .query("SELECT balance FROM account WHERE id = " + id)
        .get(0)
        .getLong("balance");
  }

  private static Throwable failure(Future<?> f) throws Exception {
    try {
      await(f);
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure");
  }
}
