package io.shardkit.tx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.context.ConfigurationException;
import io.shardkit.router.CircuitBreakerOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL data sources in {@link TransactionsOptions}' JSON ({@code "postgres": {"<name>":
 * {...}}}): read, written back without the password, and bad values refused naming {@code
 * postgres.<name>.<field>}. No database.
 */
class PostgresSourcesJsonTest {

  static JsonObject ledger() {
    return new JsonObject()
        .put("host", "pg1")
        .put("port", 6543)
        .put("database", "ledger")
        .put("user", "app")
        .put("password", "s3cret-pw")
        .put("maxSize", 16)
        .put("isolationLevel", "repeatable read")
        .put(
            "circuitBreaker",
            new JsonObject().put("consecutiveFailures", 3).put("openDurationMs", 250));
  }

  static JsonObject config(JsonObject postgres) {
    return new JsonObject().put("logDataSource", "ds_0").put("postgres", postgres);
  }

  @Test
  void postgresSourcesAreReadFromJson() {
    TransactionsOptions options =
        TransactionsOptions.fromJson(
            config(
                new JsonObject()
                    .put("ledger", ledger())
                    .put(
                        "audit",
                        new JsonObject()
                            .put("host", "pg2")
                            .put("database", "audit")
                            .put("user", "auditor"))));

    assertThat(options.postgresSources().keySet()).containsExactly("ledger", "audit");
    PostgresSourceOptions ledger = options.postgresSources().get("ledger");
    assertThat(ledger.connectOptions().getHost()).isEqualTo("pg1");
    assertThat(ledger.connectOptions().getPort()).isEqualTo(6543);
    assertThat(ledger.connectOptions().getDatabase()).isEqualTo("ledger");
    assertThat(ledger.connectOptions().getUser()).isEqualTo("app");
    assertThat(ledger.connectOptions().getPassword()).isEqualTo("s3cret-pw");
    assertThat(ledger.poolOptions().getMaxSize()).isEqualTo(16);
    assertThat(ledger.isolationLevel()).isEqualTo("REPEATABLE READ");
    assertThat(ledger.circuitBreaker())
        .isEqualTo(
            CircuitBreakerOptions.builder()
                .consecutiveFailures(3)
                .openDuration(Duration.ofMillis(250))
                .build());

    PostgresSourceOptions audit = options.postgresSources().get("audit");
    assertThat(audit.connectOptions().getPort()).as("default port").isEqualTo(5432);
    assertThat(audit.connectOptions().getPassword()).as("no password").isEmpty();
    assertThat(audit.poolOptions().getMaxSize()).as("default pool size").isEqualTo(8);
    assertThat(audit.isolationLevel()).as("the server's default").isNull();
    assertThat(audit.circuitBreaker()).isEqualTo(CircuitBreakerOptions.defaults());

    assertThat(
            new TransactionsOptions(config(new JsonObject().put("ledger", ledger())))
                .toJson()
                .getJsonObject("postgres"))
        .as("the data-object constructor reads the same")
        .isEqualTo(
            TransactionsOptions.fromJson(config(new JsonObject().put("ledger", ledger())))
                .toJson()
                .getJsonObject("postgres"));
  }

  @Test
  void toJsonRoundTripsEverythingButThePassword() {
    TransactionsOptions options =
        TransactionsOptions.fromJson(config(new JsonObject().put("ledger", ledger())));
    JsonObject json = options.toJson();

    assertThat(json.encode()).doesNotContain("s3cret-pw").doesNotContain("password");
    assertThat(options.toString()).doesNotContain("s3cret-pw");
    JsonObject written = json.getJsonObject("postgres").getJsonObject("ledger");
    assertThat(written.getString("host")).isEqualTo("pg1");
    assertThat(written.getInteger("port")).isEqualTo(6543);
    assertThat(written.getString("database")).isEqualTo("ledger");
    assertThat(written.getString("user")).isEqualTo("app");
    assertThat(written.getInteger("maxSize")).isEqualTo(16);
    assertThat(written.getString("isolationLevel")).isEqualTo("REPEATABLE READ");
    assertThat(written.getJsonObject("circuitBreaker").getInteger("consecutiveFailures"))
        .isEqualTo(3);

    TransactionsOptions again = TransactionsOptions.fromJson(json);
    assertThat(again.toJson()).isEqualTo(json);
    assertThat(again.postgresSources().get("ledger").connectOptions().getPassword()).isEmpty();

    // a source set in code writes the same shape; an empty section when there is none
    TransactionsOptions coded =
        TransactionsOptions.builder("ds_0")
            .postgres(
                "ledger",
                PostgresSourceOptions.fromJson(ledger().put("isolationLevel", "REPEATABLE READ")))
            .build();
    assertThat(coded.toJson().getJsonObject("postgres")).isEqualTo(json.getJsonObject("postgres"));
    assertThat(TransactionsOptions.of("ds_0").toJson().getJsonObject("postgres")).isEmpty();
  }

  @Test
  void badValuesAreRefusedNamingPostgresNameField() {
    assertRefused(config(new JsonObject().put("ledger", ledger().put("hots", "x"))), "hots");
    assertRefused(config(new JsonObject().put("ledger", ledger().put("port", "5432"))), "port");
    assertRefused(config(new JsonObject().put("ledger", ledger().put("port", 70000))), "port");
    assertRefused(config(new JsonObject().put("ledger", ledger().put("port", 5432.5))), "port");
    assertRefused(config(new JsonObject().put("ledger", ledger().put("maxSize", 0))), "maxSize");
    assertRefused(
        config(new JsonObject().put("ledger", ledger().put("maxSize", "big"))), "maxSize");
    assertRefused(
        config(new JsonObject().put("ledger", ledger().put("isolationLevel", "DIRTY"))),
        "isolationLevel");
    assertRefused(
        config(new JsonObject().put("ledger", ledger().put("isolationLevel", 2))),
        "isolationLevel");
    assertRefused(config(new JsonObject().put("ledger", ledger().put("host", " "))), "host");
    JsonObject noDatabase = ledger();
    noDatabase.remove("database");
    assertRefused(config(new JsonObject().put("ledger", noDatabase)), "database");
    JsonObject noUser = ledger();
    noUser.remove("user");
    assertRefused(config(new JsonObject().put("ledger", noUser)), "user");
    assertRefused(
        config(new JsonObject().put("ledger", ledger().put("circuitBreaker", "on"))),
        "circuitBreaker");
    assertRefused(
        config(
            new JsonObject()
                .put(
                    "ledger",
                    ledger().put("circuitBreaker", new JsonObject().put("windowSize", 0)))),
        "circuitBreaker.windowSize");
    assertRefused(
        config(
            new JsonObject()
                .put("ledger", ledger().put("circuitBreaker", new JsonObject().put("tries", 1)))),
        "circuitBreaker.tries");

    // a password of the wrong type is refused without printing it
    assertThatThrownBy(
            () ->
                TransactionsOptions.fromJson(
                    config(new JsonObject().put("ledger", ledger().put("password", 12345678)))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageNotContaining("12345678")
        .extracting(e -> ((ConfigurationException) e).field())
        .isEqualTo("postgres.ledger.password");

    // the section and its entries must be objects; names are checked as in code
    assertThatThrownBy(() -> TransactionsOptions.fromJson(config(null).put("postgres", "pg1")))
        .isInstanceOf(ConfigurationException.class)
        .extracting(e -> ((ConfigurationException) e).field())
        .isEqualTo("postgres");
    assertThatThrownBy(
            () -> TransactionsOptions.fromJson(config(new JsonObject().put("ledger", "pg1:5432"))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("pg1:5432")
        .extracting(e -> ((ConfigurationException) e).field())
        .isEqualTo("postgres.ledger");
    String tooLong = "x".repeat(48);
    assertThatThrownBy(
            () -> TransactionsOptions.fromJson(config(new JsonObject().put(tooLong, ledger()))))
        .isInstanceOf(ConfigurationException.class)
        .extracting(e -> ((ConfigurationException) e).field())
        .isEqualTo("postgres." + tooLong);
  }

  private static void assertRefused(JsonObject json, String field) {
    assertThatThrownBy(() -> TransactionsOptions.fromJson(json))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("postgres.ledger." + field + ": ")
        .hasMessageNotContaining("s3cret-pw")
        .extracting(e -> ((ConfigurationException) e).field())
        .isEqualTo("postgres.ledger." + field);
  }
}
