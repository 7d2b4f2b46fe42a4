package io.shardkit.testkit.impl;

import io.shardkit.testkit.TestShardsException;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Where {@link io.shardkit.testkit.TestPostgres} gets its server, as {@code TestShards} chooses
 * MySQL's: {@code shardkit.testkit.postgres} / {@code SHARDKIT_TESTKIT_POSTGRES} ({@code embedded},
 * {@code testcontainers}, {@code endpoint}) forces one; unset, a forced MySQL provider ({@code
 * shardkit.testkit.provider} = {@code embedded} or {@code testcontainers}) is followed; otherwise
 * an endpoint if {@code shardkit.testkit.postgres.endpoint} is set, Testcontainers ({@code
 * postgres:14}, {@code shardkit.testkit.postgres.image}) when a Docker engine answers, else the
 * embedded binaries.
 */
public final class PostgresProviders {

  public static final String PROPERTY = "shardkit.testkit.postgres";
  public static final String ENDPOINT_PROPERTY = "shardkit.testkit.postgres.endpoint";
  public static final String IMAGE_PROPERTY = "shardkit.testkit.postgres.image";
  public static final String DEFAULT_IMAGE = "postgres:14";

  /** Reads a setting: the system property, else the environment variable; null when unset. */
  @FunctionalInterface
  public interface Settings {
    String get(String property, String env);

    /** System properties, then the environment. */
    Settings SYSTEM =
        (property, env) -> {
          String value = System.getProperty(property);
          if (value == null || value.isBlank()) {
            value = System.getenv(env);
          }
          return value == null || value.isBlank() ? null : value.trim();
        };
  }

  /** The provider chosen and what chose it (for messages). */
  public record Choice(String kind, String reason) {}

  private PostgresProviders() {}

  /** Starts a server from the provider the settings and this machine choose. */
  public static PgServer start(int maxPreparedTransactions) {
    return start(maxPreparedTransactions, Settings.SYSTEM, ContainerProvider::dockerAvailable);
  }

  /** {@link #start(int)} with these settings and this answer to "is Docker there?". */
  public static PgServer start(
      int maxPreparedTransactions, Settings settings, BooleanSupplier docker) {
    Choice choice = choose(settings, docker);
    String image = settings.get(IMAGE_PROPERTY, "SHARDKIT_TESTKIT_POSTGRES_IMAGE");
    return switch (choice.kind()) {
      case "endpoint" ->
          EndpointPostgres.start(
              settings.get(ENDPOINT_PROPERTY, "SHARDKIT_TESTKIT_POSTGRES_ENDPOINT"),
              maxPreparedTransactions);
      case "testcontainers" ->
          ContainerPostgres.start(image == null ? DEFAULT_IMAGE : image, maxPreparedTransactions);
      default -> EmbeddedPostgres.start(maxPreparedTransactions);
    };
  }

  /**
   * The provider: forced, followed from MySQL's, or chosen (endpoint set, Docker, embedded).
   *
   * @throws TestShardsException for an unknown provider, {@code endpoint} without an endpoint, or
   *     {@code testcontainers} forced without a Docker engine
   */
  public static Choice choose(Settings settings, BooleanSupplier docker) {
    String endpoint = settings.get(ENDPOINT_PROPERTY, "SHARDKIT_TESTKIT_POSTGRES_ENDPOINT");
    String forced = settings.get(PROPERTY, "SHARDKIT_TESTKIT_POSTGRES");
    String reason = PROPERTY + "=" + forced;
    if (forced == null) {
      String mysql = settings.get("shardkit.testkit.provider", "SHARDKIT_TESTKIT_PROVIDER");
      if (mysql != null
          && (mysql.equalsIgnoreCase("embedded") || mysql.equalsIgnoreCase("testcontainers"))) {
        forced = mysql;
        reason = "shardkit.testkit.provider=" + mysql + ", followed as " + PROPERTY + " is unset";
      }
    }
    String kind = forced == null ? "auto" : forced.toLowerCase(Locale.ROOT);
    switch (kind) {
      case "embedded":
        return new Choice("embedded", reason);
      case "endpoint":
        if (endpoint == null) {
          throw new TestShardsException(
              "testkit: PostgreSQL provider 'endpoint' ("
                  + reason
                  + ") needs "
                  + ENDPOINT_PROPERTY
                  + " (or SHARDKIT_TESTKIT_POSTGRES_ENDPOINT) ="
                  + " [user[:password]@]host:port[/database]");
        }
        return new Choice("endpoint", reason);
      case "testcontainers":
        if (!docker.getAsBoolean()) {
          throw new TestShardsException(
              "testkit: PostgreSQL provider 'testcontainers' was forced ("
                  + reason
                  + ") but no Docker engine is reachable (no DOCKER_HOST, no"
                  + " /var/run/docker.sock, or the engine does not answer). Start Docker, or use "
                  + PROPERTY
                  + "=embedded (Linux x86_64), or "
                  + PROPERTY
                  + "=endpoint with "
                  + ENDPOINT_PROPERTY
                  + "=user:password@host:port for your own server.");
        }
        return new Choice("testcontainers", reason);
      case "auto":
        break;
      default:
        throw new TestShardsException(
            "testkit: unknown PostgreSQL provider '"
                + forced
                + "' ("
                + reason
                + "; expected embedded, testcontainers or endpoint)");
    }
    if (endpoint != null) {
      return new Choice("endpoint", ENDPOINT_PROPERTY + " is set");
    }
    if (docker.getAsBoolean()) {
      return new Choice("testcontainers", "a Docker engine answers");
    }
    return new Choice("embedded", "no endpoint configured, no Docker engine");
  }

  /** Connect options for {@code database} on {@code server}. */
  public static PgConnectOptions connectOptions(PgServer server, String database) {
    return new PgConnectOptions()
        .setHost(server.host())
        .setPort(server.port())
        .setUser(server.user())
        .setPassword(server.password())
        .setDatabase(database);
  }

  /** Whether {@code SELECT 1} answers within a few seconds. */
  static boolean ping(PgConnectOptions options) {
    Future<Void> probe =
        PgConnection.connect(TestkitVertx.get(), options)
            .compose(
                conn -> conn.query("SELECT 1").execute().eventually(conn::close).<Void>mapEmpty())
            .timeout(3, TimeUnit.SECONDS);
    try {
      Blocking.await(probe, Duration.ofSeconds(5), "ping " + options.getHost());
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }
}
