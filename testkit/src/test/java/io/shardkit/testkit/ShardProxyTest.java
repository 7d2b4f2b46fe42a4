package io.shardkit.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@Shards(1)
class ShardProxyTest {

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
  void latencyDelaysEveryRoundTrip(ShardDatabases databases) throws Exception {
    try (ShardProxy proxy = databases.get(0).shard().openProxy()) {
      SqlConnection conn =
          MySQLConnection.connect(vertx, proxy.connectOptions(databases.get(0).database()))
              .await(10, TimeUnit.SECONDS);
      try {
        Duration fast = time(conn);
        proxy.latency(Duration.ofMillis(150));
        Duration slow = time(conn);
        // One round trip crosses the proxy twice (request and response).
        assertThat(slow).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        assertThat(slow).isGreaterThan(fast);
        proxy.latency(Duration.ZERO);
        assertThat(time(conn)).isLessThan(Duration.ofMillis(300));
      } finally {
        conn.close();
      }
    }
  }

  @Test
  void droppedConnectionsFailAndRefusedOnesNeverOpen(ShardDatabases databases) throws Exception {
    String database = databases.get(0).database();
    try (ShardProxy proxy = databases.get(0).shard().openProxy()) {
      SqlConnection conn =
          MySQLConnection.connect(vertx, proxy.connectOptions(database))
              .await(10, TimeUnit.SECONDS);
      assertThat(proxy.openConnections()).isEqualTo(1);
      proxy.dropConnections();
      assertThatThrownBy(() -> conn.query("SELECT 1").execute().await(10, TimeUnit.SECONDS))
          .isNotNull();
      assertThat(proxy.openConnections()).isZero();

      proxy.refuseConnections(true);
      assertThatThrownBy(
              () ->
                  MySQLConnection.connect(vertx, proxy.connectOptions(database))
                      .await(10, TimeUnit.SECONDS))
          .isNotNull();
      proxy.refuseConnections(false);
      SqlConnection again =
          MySQLConnection.connect(vertx, proxy.connectOptions(database))
              .await(10, TimeUnit.SECONDS);
      again.close().await();
    }
  }

  @Test
  void frozenProxyHoldsTrafficUntilUnfrozen(ShardDatabases databases) throws Exception {
    try (ShardProxy proxy = databases.get(0).shard().openProxy()) {
      SqlConnection conn =
          MySQLConnection.connect(vertx, proxy.connectOptions(databases.get(0).database()))
              .await(10, TimeUnit.SECONDS);
      try {
        proxy.freeze();
        var pending = conn.query("SELECT 42 AS v").execute();
        assertThatThrownBy(() -> pending.timeout(300, TimeUnit.MILLISECONDS).await())
            .hasMessageContaining("Timeout");
        proxy.unfreeze();
        assertThat(pending.await(10, TimeUnit.SECONDS).iterator().next().getInteger("v"))
            .isEqualTo(42);
      } finally {
        conn.close();
      }
    }
  }

  private static Duration time(SqlConnection conn) throws Exception {
    long begin = System.nanoTime();
    conn.query("SELECT 1").execute().await(20, TimeUnit.SECONDS);
    return Duration.ofNanos(System.nanoTime() - begin);
  }
}
