package io.shardkit.tx;

import io.shardkit.context.ConfigurationException;
import io.shardkit.router.CircuitBreakerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A named PostgreSQL data source that global XA transactions may enlist next to the pool's MySQL
 * shards ({@link TransactionsOptions.Builder#postgres}). It is a single, unsharded participant: the
 * work reaches it by name ({@link Transactions#postgres(String)}) and runs its own SQL on it; the
 * router does not route or rewrite statements for it.
 *
 * <p>The server must allow prepared transactions: {@code max_prepared_transactions} at least the
 * number of transactions that may be prepared at once (PostgreSQL's default, 0, is refused by
 * {@link Transactions#warmUp()} and at the first enlistment, naming the setting and the source).
 */
public final class PostgresSourceOptions {

  private static final Set<String> ISOLATION_LEVELS =
      Set.of("READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE");

  /** The fields {@link #fromJson} reads, in {@link #toJson}'s order. */
  private static final List<String> JSON_FIELDS =
      List.of(
          "host",
          "port",
          "database",
          "user",
          "password",
          "maxSize",
          "isolationLevel",
          "circuitBreaker");

  private final PgConnectOptions connectOptions;
  private PoolOptions poolOptions = new PoolOptions().setMaxSize(8);
  private String isolationLevel;
  private CircuitBreakerOptions circuitBreaker = CircuitBreakerOptions.defaults();

  public PostgresSourceOptions(PgConnectOptions connectOptions) {
    this.connectOptions = new PgConnectOptions(Objects.requireNonNull(connectOptions, "connect"));
  }

  /**
   * Reads a source from JSON: {@code {"host": "pg1", "port": 5432, "database": "ledger", "user":
   * "app", "password": "…", "maxSize": 8, "isolationLevel": "READ COMMITTED", "circuitBreaker":
   * {CircuitBreakerOptions JSON}}}. {@code host}, {@code database} and {@code user} are required;
   * {@code port} defaults to 5432, {@code password} to none (empty), {@code maxSize} (the pool's)
   * to 8, {@code isolationLevel} to the server's default, {@code circuitBreaker} to {@link
   * CircuitBreakerOptions#defaults()}. Any other field is rejected.
   *
   * @throws ConfigurationException naming the field ({@code port}, {@code
   *     circuitBreaker.windowSize}, ...) and the value (never the password's)
   */
  public static PostgresSourceOptions fromJson(JsonObject json) {
    Objects.requireNonNull(json, "json");
    for (String field : json.fieldNames()) {
      if (!JSON_FIELDS.contains(field)) {
        throw new ConfigurationException(field, "unknown field (known: " + JSON_FIELDS + ")");
      }
    }
    PgConnectOptions connect =
        new PgConnectOptions()
            .setHost(requiredString(json, "host"))
            .setDatabase(requiredString(json, "database"))
            .setUser(requiredString(json, "user"))
            .setPassword("");
    if (json.containsKey("port")) {
      Object port = json.getValue("port");
      if (!(port instanceof Number n)
          || n.doubleValue() != n.longValue()
          || n.longValue() < 1
          || n.longValue() > 65535) {
        throw new ConfigurationException("port", "must be an integer from 1 to 65535, got " + port);
      }
      connect.setPort(n.intValue());
    } else {
      connect.setPort(PgConnectOptions.DEFAULT_PORT);
    }
    if (json.containsKey("password")) {
      if (!(json.getValue("password") instanceof String password)) {
        throw new ConfigurationException("password", "must be a string (value not shown)");
      }
      connect.setPassword(password);
    }
    PostgresSourceOptions options = new PostgresSourceOptions(connect);
    if (json.containsKey("maxSize")) {
      Object size = json.getValue("maxSize");
      if (!(size instanceof Number n)
          || n.doubleValue() != n.longValue()
          || n.longValue() < 1
          || n.longValue() > Integer.MAX_VALUE) {
        throw new ConfigurationException("maxSize", "must be a positive integer, got " + size);
      }
      options.poolOptions(new PoolOptions().setMaxSize(n.intValue()));
    }
    if (json.containsKey("isolationLevel")) {
      Object level = json.getValue("isolationLevel");
      if (!(level instanceof String s)) {
        throw new ConfigurationException(
            "isolationLevel", "must be one of " + ISOLATION_LEVELS + ", got " + level);
      }
      options.isolationLevel(s);
    }
    if (json.containsKey("circuitBreaker")) {
      if (!(json.getValue("circuitBreaker") instanceof JsonObject breaker)) {
        throw new ConfigurationException(
            "circuitBreaker", "must be an object, got " + json.getValue("circuitBreaker"));
      }
      options.circuitBreaker(CircuitBreakerOptions.fromJson(breaker)); // circuitBreaker.<field>
    }
    return options;
  }

  private static String requiredString(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (!(value instanceof String s) || s.isBlank()) {
      throw new ConfigurationException(field, "required, a non-blank string, got " + value);
    }
    return s;
  }

  /**
   * This source as {@link #fromJson} reads it, without the password (like the MySQL data sources,
   * whose settings are never printed with it): a configuration written by this method connects only
   * once the password is added back. Of the pool options only {@code maxSize} is written.
   */
  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("host", connectOptions.getHost())
            .put("port", connectOptions.getPort())
            .put("database", connectOptions.getDatabase())
            .put("user", connectOptions.getUser())
            .put("maxSize", poolOptions.getMaxSize());
    if (isolationLevel != null) {
      json.put("isolationLevel", isolationLevel);
    }
    return json.put("circuitBreaker", circuitBreaker.toJson());
  }

  /**
   * The pool of this source's connections (default: max size 8; a wait queue left unbounded is
   * bounded, see {@link #poolOptions()}).
   */
  public PostgresSourceOptions poolOptions(PoolOptions poolOptions) {
    this.poolOptions = new PoolOptions(Objects.requireNonNull(poolOptions, "poolOptions"));
    return this;
  }

  /**
   * The isolation level of this source's branches: {@code READ COMMITTED}, {@code REPEATABLE READ}
   * or {@code SERIALIZABLE}; null (the default) keeps the server's default.
   */
  public PostgresSourceOptions isolationLevel(String level) {
    if (level != null && !ISOLATION_LEVELS.contains(level.toUpperCase(Locale.ROOT))) {
      throw new ConfigurationException(
          "isolationLevel", "must be one of " + ISOLATION_LEVELS + ", got '" + level + "'");
    }
    this.isolationLevel = level == null ? null : level.toUpperCase(Locale.ROOT);
    return this;
  }

  /** When this source's circuit breaker opens (default: {@link CircuitBreakerOptions#defaults}). */
  public PostgresSourceOptions circuitBreaker(CircuitBreakerOptions options) {
    this.circuitBreaker = Objects.requireNonNull(options, "circuitBreaker");
    return this;
  }

  public PgConnectOptions connectOptions() {
    return new PgConnectOptions(connectOptions);
  }

  /**
   * The pool options; a wait queue left at Vert.x's default (unbounded) is bounded to {@link
   * io.shardkit.router.ShardedPool.Builder#DEFAULT_MAX_WAIT_QUEUE_SIZE} waiters, as on the MySQL
   * shards: past it a caller is refused at once instead of queued until its deadline.
   */
  public PoolOptions poolOptions() {
    PoolOptions options = new PoolOptions(poolOptions);
    if (options.getMaxWaitQueueSize() == PoolOptions.DEFAULT_MAX_WAIT_QUEUE_SIZE) {
      options.setMaxWaitQueueSize(
          io.shardkit.router.ShardedPool.Builder.DEFAULT_MAX_WAIT_QUEUE_SIZE);
    }
    return options;
  }

  public String isolationLevel() {
    return isolationLevel;
  }

  public CircuitBreakerOptions circuitBreaker() {
    return circuitBreaker;
  }

  @Override
  public String toString() {
    return "postgresql://"
        + connectOptions.getHost()
        + ":"
        + connectOptions.getPort()
        + "/"
        + connectOptions.getDatabase();
  }
}
