package io.shardkit.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.shardkit.testkit.impl.ContainerProvider;
import io.shardkit.testkit.impl.PostgresProviders;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Where {@link TestPostgres} gets its server: the choice (forced, followed from the MySQL provider,
 * endpoint, Docker, embedded), the error when Testcontainers is forced without Docker, and the
 * endpoint provider against a real server (an embedded PostgreSQL standing in for an external one).
 */
class TestPostgresProviderTest {

  static PostgresProviders.Settings settings(Map<String, String> values) {
    return (property, env) -> values.get(property);
  }

  static String kind(Map<String, String> values, boolean docker) {
    return PostgresProviders.choose(settings(values), () -> docker).kind();
  }

  @Test
  void choosesEndpointThenDockerThenEmbeddedUnlessForced() {
    assertThat(kind(Map.of(), false)).isEqualTo("embedded");
    assertThat(kind(Map.of(), true)).isEqualTo("testcontainers");
    assertThat(kind(Map.of("shardkit.testkit.postgres.endpoint", "pg:5432"), true))
        .isEqualTo("endpoint");
    assertThat(kind(Map.of("shardkit.testkit.postgres", "embedded"), true)).isEqualTo("embedded");
    assertThat(kind(Map.of("shardkit.testkit.postgres", "TESTCONTAINERS"), true))
        .isEqualTo("testcontainers");
    assertThat(
            kind(
                Map.of(
                    "shardkit.testkit.postgres",
                    "endpoint",
                    "shardkit.testkit.postgres.endpoint",
                    "pg:5432"),
                true))
        .isEqualTo("endpoint");
    // unset: a forced MySQL provider is followed (embedded / testcontainers), endpoints are not
    assertThat(kind(Map.of("shardkit.testkit.provider", "embedded"), true)).isEqualTo("embedded");
    assertThat(kind(Map.of("shardkit.testkit.provider", "endpoints"), false)).isEqualTo("embedded");
    assertThat(
            kind(
                Map.of(
                    "shardkit.testkit.provider",
                    "embedded",
                    "shardkit.testkit.postgres",
                    "testcontainers"),
                true))
        .as("PostgreSQL's own setting wins")
        .isEqualTo("testcontainers");
  }

  @Test
  void badOrIncompleteSettingsAreRefusedSayingWhatToSet() {
    assertThatThrownBy(() -> kind(Map.of("shardkit.testkit.postgres", "docker"), true))
        .isInstanceOf(TestShardsException.class)
        .hasMessageContaining("unknown PostgreSQL provider 'docker'")
        .hasMessageContaining("embedded, testcontainers or endpoint");
    assertThatThrownBy(() -> kind(Map.of("shardkit.testkit.postgres", "endpoint"), true))
        .isInstanceOf(TestShardsException.class)
        .hasMessageContaining("needs shardkit.testkit.postgres.endpoint");
    assertThatThrownBy(
            () ->
                TestPostgres.start(
                    64,
                    settings(
                        Map.of(
                            "shardkit.testkit.postgres", "endpoint",
                            "shardkit.testkit.postgres.endpoint", "app:hunter2@pg-no-port")),
                    () -> false))
        .isInstanceOf(TestShardsException.class)
        .hasMessageContaining("[user[:password]@]host:port[/database]")
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void testcontainersForcedWithoutDockerFailsSayingSo() {
    assertThatThrownBy(
            () ->
                TestPostgres.start(
                    64,
                    settings(Map.of("shardkit.testkit.postgres", "testcontainers")),
                    () -> false))
        .isInstanceOf(TestShardsException.class)
        .hasMessageContaining(
            "PostgreSQL provider 'testcontainers' was forced"
                + " (shardkit.testkit.postgres=testcontainers) but no Docker engine is reachable")
        .hasMessageContaining("shardkit.testkit.postgres=embedded")
        .hasMessageContaining("shardkit.testkit.postgres.endpoint=user:password@host:port");
    assertThatThrownBy(
            () ->
                TestPostgres.start(
                    64,
                    settings(Map.of("shardkit.testkit.provider", "testcontainers")),
                    () -> false))
        .isInstanceOf(TestShardsException.class)
        .hasMessageContaining("shardkit.testkit.provider=testcontainers, followed");

    // the same through the system property, on a machine without Docker (this one)
    assumeFalse(ContainerProvider.dockerAvailable(), "a Docker engine answers here");
    assertThat(PostgresProviders.choose(PostgresProviders.Settings.SYSTEM, () -> false).kind())
        .as("the default here")
        .isIn("embedded", "endpoint");
    String before = System.getProperty("shardkit.testkit.postgres");
    System.setProperty("shardkit.testkit.postgres", "testcontainers");
    try {
      assertThatThrownBy(TestPostgres::start)
          .isInstanceOf(TestShardsException.class)
          .hasMessageContaining("no Docker engine is reachable");
    } finally {
      if (before == null) {
        System.clearProperty("shardkit.testkit.postgres");
      } else {
        System.setProperty("shardkit.testkit.postgres", before);
      }
    }
  }

  @Test
  void endpointGivesAFreshDatabaseOnAnExternalServerAndRefusesFaults() {
    try (TestPostgres external = TestPostgres.start()) {
      String endpoint = "postgres@" + external.host() + ":" + external.port();
      PostgresProviders.Settings s =
          settings(
              Map.of(
                  "shardkit.testkit.postgres",
                  "endpoint",
                  "shardkit.testkit.postgres.endpoint",
                  endpoint));
      String database;
      try (TestPostgres pg = TestPostgres.start(64, s, () -> false)) {
        assertThat(pg.provider()).isEqualTo("endpoint");
        assertThat(pg.controlsProcess()).isFalse();
        assertThat(pg.port()).isEqualTo(external.port());
        database = pg.database();
        assertThat(database).startsWith("shardkit_pg_");
        assertThat(pg.maxPreparedTransactions()).isEqualTo(64);
        pg.execute("CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)");
        assertThat(external.queryIn(database, "SELECT id FROM t")).hasSize(1);
        assertThat(pg.connectOptions().getDatabase()).isEqualTo(database);
        assertThatThrownBy(pg::kill)
            .isInstanceOf(TestShardsException.class)
            .hasMessageContaining("kill() needs a server the testkit runs")
            .hasMessageContaining("is an endpoint");
        assertThatThrownBy(pg::pause).isInstanceOf(TestShardsException.class);
        assertThat(pg.isRunning()).isTrue();
      }
      assertThat(
              external.query("SELECT datname FROM pg_database WHERE datname = '" + database + "'"))
          .as("close() dropped the database it created")
          .isEmpty();
      // an endpoint's max_prepared_transactions is its own: a test needing 0 is refused
      assertThatThrownBy(() -> TestPostgres.start(0, s, () -> false))
          .isInstanceOf(TestShardsException.class)
          .hasMessageContaining("runs max_prepared_transactions = 64, the test asked for 0");
    }
  }
}
