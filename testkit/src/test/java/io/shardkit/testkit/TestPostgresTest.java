package io.shardkit.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** A real PostgreSQL: starts, keeps a prepared transaction across kill -9 and restart, stops. */
class TestPostgresTest {

  @Test
  void preparedTransactionSurvivesKillAndRestart() {
    try (TestPostgres pg = TestPostgres.start()) {
      assertThat(
              pg.query("SHOW max_prepared_transactions")
                  .get(0)
                  .getString("max_prepared_transactions"))
          .isEqualTo("64");
      pg.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
      pg.execute("BEGIN", "INSERT INTO t VALUES (1, 10)", "PREPARE TRANSACTION 'sk-test-1'");
      assertThat(pg.preparedTransactions()).containsExactly("sk-test-1");
      long pid = pg.pid();
      pg.kill();
      assertThat(pg.isRunning()).isFalse();
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
      pg.startAgain();
      assertThat(pg.preparedTransactions()).containsExactly("sk-test-1");
      assertThat(pg.query("SELECT count(*) AS n FROM t").get(0).getLong("n")).isZero();
      pg.execute("COMMIT PREPARED 'sk-test-1'");
      assertThat(pg.query("SELECT v FROM t WHERE id = 1").get(0).getInteger("v")).isEqualTo(10);
      assertThat(pg.preparedTransactions()).isEmpty();
      pg.restart();
      assertThat(pg.query("SELECT v FROM t WHERE id = 1").get(0).getInteger("v")).isEqualTo(10);
      pg.stop();
      assertThat(pg.isRunning()).isFalse();
    }
  }

  @Test
  void defaultMaxPreparedTransactionsRefusesPrepare() {
    try (TestPostgres pg = TestPostgres.start(0)) {
      assertThatThrownBy(() -> pg.execute("BEGIN", "SELECT 1", "PREPARE TRANSACTION 'sk-test-2'"))
          .hasMessageContaining("prepared transactions are disabled");
    }
  }
}
