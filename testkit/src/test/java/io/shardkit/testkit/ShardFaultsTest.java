package io.shardkit.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@Shards(2)
class ShardFaultsTest {

  private Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  @Test
  void committedDataSurvivesKillMinusNineAndRestart(ShardDatabases databases) {
    ShardDatabase db = databases.get(1);
    assumeTrue(db.shard().controlsProcess(), "needs a shard whose process the testkit owns");
    db.execute("CREATE TABLE account (id INT PRIMARY KEY, balance INT) ENGINE=InnoDB");
    db.execute("INSERT INTO account VALUES (1, 100), (2, 200)");
    int portBefore = db.shard().port();

    db.shard().kill();
    assertThat(db.shard().isRunning()).isFalse();
    db.shard().start();

    assertThat(db.shard().port()).isEqualTo(portBefore);
    assertThat(db.query("SELECT SUM(balance) AS total FROM account").get(0).getLong("total"))
        .isEqualTo(300L);
  }

  @Test
  void pausedShardTimesOutThenAnswersAfterResume(ShardDatabases databases) throws Exception {
    ShardDatabase db = databases.get(0);
    assumeTrue(db.shard().controlsProcess(), "needs a shard whose process the testkit owns");
    Pool pool =
        MySQLBuilder.pool()
            .with(new PoolOptions().setMaxSize(2))
            .connectingTo(db.connectOptions())
            .using(vertx)
            .build();
    try {
      assertThat(select(pool).await(10, TimeUnit.SECONDS)).isEqualTo(1);

      db.shard().pause();
      assertThat(db.shard().isPaused()).isTrue();
      long begin = System.nanoTime();
      Future<Integer> whilePaused = select(pool).timeout(500, TimeUnit.MILLISECONDS);
      assertThatThrownBy(() -> whilePaused.await(10, TimeUnit.SECONDS))
          .hasMessageContaining("Timeout");
      assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofSeconds(5));

      db.shard().resume();
      assertThat(select(pool).await(30, TimeUnit.SECONDS)).isEqualTo(1);
    } finally {
      db.shard().resume();
      pool.close().await();
    }
  }

  private static Future<Integer> select(Pool pool) {
    return pool.query("SELECT 1 AS one")
        .execute()
        .map(RowSet::iterator)
        .map(it -> it.next())
        .map((Row row) -> row.getInteger("one"));
  }
}
