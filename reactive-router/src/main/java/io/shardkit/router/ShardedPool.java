package io.shardkit.router;

import io.shardkit.context.ConfigurationException;
import io.shardkit.router.spi.ShardConnectionProvider;
import io.shardkit.router.spi.ShardedPoolFactory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.PropertyKind;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * A Vert.x {@link SqlClient} over sharded MySQL/MariaDB data sources: each statement is parsed once
 * (plans are cached by SQL text), routed to the data nodes its sharding conditions select,
 * rewritten per node (actual table names, widened LIMIT, derived columns, pruned IN lists),
 * executed on the per-data-source Vert.x pools in parallel and merged (ORDER BY, GROUP BY,
 * aggregates, DISTINCT, LIMIT). Results complete on the caller's context.
 *
 * <p>A statement the router cannot execute correctly fails with {@link UnsupportedSqlException}
 * (malformed SQL: {@link SqlParseException}) before any I/O. A data source that cannot be reached
 * fails it with {@link ShardUnavailableException}. Errors a shard returns (duplicate key, ...) fail
 * it with the driver's exception as they would on one database.
 *
 * <p>It is not a connection: transaction control statements are refused; atomic cross-shard writes
 * go through reactive-tx, which runs routed statements on its pinned connections through {@link
 * #withConnections(ShardConnectionProvider)}.
 */
public interface ShardedPool extends SqlClient {

  /**
   * Keys generated for an INSERT that left out its table's key column, in row order (a {@code
   * List<Object>}; empty when none). {@code MySQLClient.LAST_INSERTED_ID} holds the first one.
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  PropertyKind<List<Object>> GENERATED_KEYS =
      (PropertyKind) PropertyKind.create("shardkit.generated-keys", List.class);

  /** Starts a builder. */
  static Builder builder(Vertx vertx) {
    return new Builder(vertx);
  }

  /** The data source names, in rule order. */
  Set<String> dataSourceNames();

  /** The underlying Vert.x pool of a data source (the router does not own its statements). */
  Pool pool(String dataSource);

  /** The rules this pool routes with. */
  ShardingRules rules();

  /**
   * A routed client whose route units execute on the provider's client for each data source (for
   * example a transaction's pinned connections). Several units on one data source share that client
   * and run one after the other. Results complete on the caller's context.
   */
  SqlClient withConnections(ShardConnectionProvider provider);

  /**
   * The data sources a statement would touch with these parameters ({@code null} for a text query),
   * without any I/O: useful to enlist shards in a transaction before running it, or to check a
   * circuit breaker. Throws {@link UnsupportedSqlException} when the statement would be refused.
   */
  Set<String> dataSourcesFor(String sql, Tuple params);

  /**
   * Streams the rows of a SELECT (no GROUP BY, aggregates or DISTINCT across units): each unit is
   * read through a cursor on its own connection, {@code fetchSize} rows at a time, and the units
   * are merged in ORDER BY order with back-pressure; at most units × fetchSize rows are held. The
   * connections return to their pools when the stream ends, fails or is closed.
   */
  Future<ShardedRowStream> stream(String sql, Tuple params, int fetchSize);

  /**
   * The circuit breaker of a data source (see {@link CircuitBreakerOptions}); with breaking
   * disabled, one that is always closed.
   *
   * @throws IllegalArgumentException for an unknown data source
   */
  ShardCircuitBreaker circuitBreaker(String dataSource);

  /**
   * Reads the column types and collations of every logical table again, from one actual table of
   * each ({@code information_schema}, without blocking). The pool reads them when it starts and
   * after DDL it runs; call this after changing tables directly on the shards. Statements are
   * planned with these types: sharding values are converted by the column's type as the server
   * converts them ({@code '017'} is 17 for an integer key), and merges compare ENUM and SET columns
   * by position and numbers and dates by value. The future completes on the caller's context once
   * the new types are in use.
   */
  Future<Void> refreshSchema();

  /** Closes every data source pool. */
  @Override
  Future<Void> close();

  /**
   * Configures a {@link ShardedPool}: the rules and one connect options + pool options per data
   * source named by the rules.
   */
  final class Builder {

    /** Default bound of the plan cache (distinct SQL texts). */
    public static final int DEFAULT_PLAN_CACHE_SIZE = 4096;

    private final Vertx vertx;
    private ShardingRules rules;
    private final Map<String, MySQLConnectOptions> connectOptions = new LinkedHashMap<>();
    private final Map<String, PoolOptions> poolOptions = new LinkedHashMap<>();
    private int planCacheSize = DEFAULT_PLAN_CACHE_SIZE;
    private io.opentelemetry.api.OpenTelemetry openTelemetry;
    private io.micrometer.core.instrument.MeterRegistry meterRegistry;
    private CircuitBreakerOptions circuitBreaker = CircuitBreakerOptions.defaults();

    private Builder(Vertx vertx) {
      this.vertx = Objects.requireNonNull(vertx, "vertx");
    }

    /** The sharding rules (required). */
    public Builder rules(ShardingRules rules) {
      this.rules = Objects.requireNonNull(rules, "rules");
      return this;
    }

    /** A data source: where it is and how its pool is sized. */
    public Builder dataSource(String name, MySQLConnectOptions connect, PoolOptions pool) {
      connectOptions.put(
          Objects.requireNonNull(name, "name"),
          new MySQLConnectOptions(Objects.requireNonNull(connect, "connect")));
      poolOptions.put(name, new PoolOptions(pool == null ? new PoolOptions() : pool));
      return this;
    }

    /** Several data sources with the same pool options. */
    public Builder dataSources(Map<String, MySQLConnectOptions> connects, PoolOptions pool) {
      connects.forEach((name, connect) -> dataSource(name, connect, pool));
      return this;
    }

    /**
     * Reads the configuration from JSON (e.g. from Vert.x config): {@code {"rules": {rule JSON},
     * "dataSources": {"ds_0": {MySQLConnectOptions JSON, optionally "pool": {PoolOptions JSON}},
     * ...}, "pool": {shared PoolOptions JSON}, "planCacheSize": 4096, "circuitBreaker":
     * {CircuitBreakerOptions JSON}}}.
     *
     * @throws ConfigurationException naming the field path and value of an invalid entry
     */
    public Builder config(JsonObject json) {
      if (json == null) {
        throw new ConfigurationException("config", "must not be null");
      }
      if (!(json.getValue("rules") instanceof JsonObject rulesJson)) {
        throw new ConfigurationException("rules", "required object, got " + json.getValue("rules"));
      }
      rules(ShardingRules.fromJson(rulesJson));
      Object shared = json.getValue("pool");
      if (shared != null && !(shared instanceof JsonObject)) {
        throw new ConfigurationException("pool", "must be an object, got " + shared);
      }
      if (!(json.getValue("dataSources") instanceof JsonObject sources)) {
        throw new ConfigurationException(
            "dataSources", "required object, got " + json.getValue("dataSources"));
      }
      for (String name : sources.fieldNames()) {
        if (!(sources.getValue(name) instanceof JsonObject source)) {
          throw new ConfigurationException(
              "dataSources." + name, "must be an object, got " + sources.getValue(name));
        }
        JsonObject connect = source.copy();
        Object own = connect.remove("pool");
        if (own != null && !(own instanceof JsonObject)) {
          throw new ConfigurationException(
              "dataSources." + name + ".pool", "must be an object, got " + own);
        }
        JsonObject poolJson =
            own != null
                ? (JsonObject) own
                : shared != null ? (JsonObject) shared : new JsonObject();
        try {
          dataSource(name, new MySQLConnectOptions(connect), new PoolOptions(poolJson));
        } catch (RuntimeException e) {
          throw new ConfigurationException(
              "dataSources." + name, "invalid options " + connect + ": " + e.getMessage(), e);
        }
      }
      if (json.containsKey("circuitBreaker")) {
        if (!(json.getValue("circuitBreaker") instanceof JsonObject breaker)) {
          throw new ConfigurationException(
              "circuitBreaker", "must be an object, got " + json.getValue("circuitBreaker"));
        }
        circuitBreaker(CircuitBreakerOptions.fromJson(breaker));
      }
      if (json.containsKey("planCacheSize")) {
        Object size = json.getValue("planCacheSize");
        if (!(size instanceof Number n) || n.intValue() != n.doubleValue()) {
          throw new ConfigurationException("planCacheSize", "must be an integer, got " + size);
        }
        planCacheSize(n.intValue());
      }
      return this;
    }

    /**
     * Bound of the plan cache (distinct SQL texts, LRU); default {@value #DEFAULT_PLAN_CACHE_SIZE}.
     */
    public Builder planCacheSize(int size) {
      if (size < 1) {
        throw new ConfigurationException("planCacheSize", "must be at least 1, got " + size);
      }
      this.planCacheSize = size;
      return this;
    }

    /**
     * Where shard-execution spans go (default {@code GlobalOpenTelemetry}). A span per unit is made
     * for statements run inside a TxScope, parented on its span and carrying the global id.
     */
    public Builder openTelemetry(io.opentelemetry.api.OpenTelemetry openTelemetry) {
      this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
      return this;
    }

    /**
     * Where the pool's meters go (default: Micrometer's global registry): statements by route and
     * kind, fan-out, plan cache, per-shard latency, pool use, breaker state (the table is in the
     * reactive-router README). A registry other than the global one also gets the leak guard's
     * {@code shardkit.scopes.*} gauges.
     */
    public Builder meterRegistry(io.micrometer.core.instrument.MeterRegistry registry) {
      this.meterRegistry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    public io.micrometer.core.instrument.MeterRegistry meterRegistry() {
      return meterRegistry != null
          ? meterRegistry
          : io.micrometer.core.instrument.Metrics.globalRegistry;
    }

    /** Per-data-source circuit breaking (default {@link CircuitBreakerOptions#defaults()}). */
    public Builder circuitBreaker(CircuitBreakerOptions options) {
      this.circuitBreaker = Objects.requireNonNull(options, "circuitBreaker");
      return this;
    }

    public CircuitBreakerOptions circuitBreaker() {
      return circuitBreaker;
    }

    public io.opentelemetry.api.OpenTelemetry openTelemetry() {
      return openTelemetry != null ? openTelemetry : io.opentelemetry.api.GlobalOpenTelemetry.get();
    }

    public Vertx vertx() {
      return vertx;
    }

    public ShardingRules rules() {
      return rules;
    }

    public Map<String, MySQLConnectOptions> connectOptions() {
      return Collections.unmodifiableMap(connectOptions);
    }

    public Map<String, PoolOptions> poolOptions() {
      return Collections.unmodifiableMap(poolOptions);
    }

    public int planCacheSize() {
      return planCacheSize;
    }

    /**
     * Validates and builds: every data source the rules name needs connect options, and no options
     * may name a data source the rules do not know.
     */
    public ShardedPool build() {
      if (rules == null) {
        throw new ConfigurationException("rules", "required");
      }
      for (String ds : rules.dataSourceNames()) {
        if (!connectOptions.containsKey(ds)) {
          throw new ConfigurationException(
              "dataSources." + ds,
              "the rules use data source " + ds + " but no connect options were given");
        }
      }
      for (String ds : connectOptions.keySet()) {
        if (!rules.dataSourceNames().contains(ds)) {
          throw new ConfigurationException(
              "dataSources." + ds, "unknown to the rules (known: " + rules.dataSourceNames() + ")");
        }
      }
      ShardedPoolFactory factory =
          ServiceLoader.load(ShardedPoolFactory.class, ShardedPool.class.getClassLoader())
              .findFirst()
              .orElseThrow(
                  () -> new IllegalStateException("no ShardedPoolFactory on the class path"));
      return factory.create(this);
    }
  }
}
