package io.shardkit.router;

import io.shardkit.router.impl.execute.ShardedPoolImpl;
import io.shardkit.router.spi.ShardConnectionProvider;
import io.shardkit.router.spi.ShardTransactionManager;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.PropertyKind;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.TransactionPropagation;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * A Vert.x {@link SqlClient} over sharded MySQL/MariaDB data sources: each statement is parsed once
 * (plans are cached by SQL text), routed to the data nodes its sharding conditions select,
 * rewritten per node (actual table names, widened LIMIT, derived columns, pruned IN lists),
 * executed on the per-data-source Vert.x pools in parallel and merged (ORDER BY, GROUP BY,
 * aggregates, DISTINCT, LIMIT). Results complete on the caller's context.
 *
 * <p>A statement the router cannot execute correctly fails with {@link UnsupportedSqlException}
 * (malformed SQL: {@link SqlParseException}) before any I/O; so does an execution with more or
 * fewer values than the statement has {@code ?}, with {@link ParameterCountException} (for a batch,
 * before any tuple runs). A data source that cannot be reached fails it with {@link
 * ShardUnavailableException}. Errors a shard returns (duplicate key, ...) fail it with the driver's
 * exception as they would on one database. A statement beyond the pool's limit of statements in
 * flight ({@link #maxInFlight()}) fails at once, before it is parsed, with {@link
 * PoolOverloadedException}; one that needs a data source where a queue stands (its statements have
 * waited longer than {@link Builder#queueDelayTarget} for a connection over a whole interval) fails
 * after routing, with nothing sent anywhere, with {@link ShardOverloadedException} naming it.
 *
 * <p>It is a Vert.x {@link Pool}: {@link #getConnection()} gives a routed {@link SqlConnection}
 * (its statements are routed like the pool's) whose {@link SqlConnection#begin()} starts a
 * transaction, and {@link #withTransaction} runs a function in one. Every transaction has a
 * deadline: {@link #transactionTimeout()} unless the call gives one; when it passes, the
 * transaction is rolled back and its later statements and its commit fail with {@code
 * ShardkitTimeoutException}. With a {@link ShardTransactionManager} (reactive-tx) a transaction may
 * touch any shards and commits atomically; without one it runs as a local {@code BEGIN ... COMMIT}
 * on the first data source it touches, and a statement that would reach a second data source fails
 * with {@link CrossShardTransactionException} before any I/O there (the transaction can then only
 * be rolled back). Transaction-control statements ({@code BEGIN}, {@code COMMIT}, ...) sent as SQL
 * are refused: use the API.
 */
public interface ShardedPool extends Pool {

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

  /**
   * The read replicas and what the pool knows of each now (healthy, lag, why not): empty when no
   * data source has replicas.
   */
  default java.util.List<ReplicaStatus> replicaStatus() {
    return java.util.List.of();
  }

  /**
   * The pool of the read replica named {@code replica} (one of {@link #replicaStatus()}), for tools
   * that read a replica on purpose, e.g. a consistency checker.
   *
   * @throws IllegalArgumentException for a name that is not one of this pool's replicas
   */
  default io.vertx.sqlclient.Pool replicaPool(String replica) {
    throw new IllegalArgumentException("no read replica named " + replica);
  }

  /**
   * A routed connection. Outside a transaction its statements run on the data sources' pools like
   * the pool's own; {@link SqlConnection#begin()} starts a transaction with the pool's default
   * deadline. Closing it rolls back a transaction still open. {@code prepare(sql)} gives a
   * statement whose {@code query()} is routed; its cursors and streams are refused (use {@link
   * #stream}).
   */
  @Override
  Future<SqlConnection> getConnection();

  /**
   * Runs {@code fn} in a transaction with the pool's default deadline ({@link
   * #transactionTimeout()}), commits when its future succeeds and rolls back when it fails (the
   * returned future then fails with {@code fn}'s failure). {@code fn} runs on a duplicated context
   * inside a {@code TxScope} whose global id and deadline its statements carry. The result
   * completes on the caller's context.
   */
  @Override
  <T> Future<T> withTransaction(Function<SqlConnection, Future<T>> fn);

  /**
   * As {@link #withTransaction(Function)}; with {@link TransactionPropagation#CONTEXT} a call made
   * inside a transaction started with {@code CONTEXT} on the same Vert.x context runs {@code fn} on
   * that transaction's connection (the outer call commits or rolls back).
   */
  @Override
  <T> Future<T> withTransaction(
      TransactionPropagation propagation, Function<SqlConnection, Future<T>> fn);

  /**
   * As {@link #withTransaction(Function)} with its own deadline, {@code timeout} from now (capped
   * by the deadline of an enclosing {@code TxScope}).
   *
   * <p>A null, zero or negative {@code timeout} fails the returned future with {@link
   * IllegalArgumentException} and runs nothing.
   */
  <T> Future<T> withTransaction(Duration timeout, Function<SqlConnection, Future<T>> fn);

  /** Runs {@code fn} with a routed connection and closes it when {@code fn}'s future completes. */
  @Override
  <T> Future<T> withConnection(Function<SqlConnection, Future<T>> fn);

  /** The default deadline of a transaction, from its start. */
  Duration transactionTimeout();

  /**
   * The manager this pool's transactions run on (reactive-tx's {@code Transactions}, built by
   * {@link Builder#transactionManager}), or null: transactions then stay on one data source.
   */
  io.shardkit.router.spi.ShardTransactionManager transactionManager();

  /**
   * As {@link SqlClient#preparedQuery(String)}; {@code options} with no entries are accepted, any
   * other options fail with {@link IllegalArgumentException} (the router prepares statements per
   * shard and honours none).
   */
  @Override
  io.vertx.sqlclient.PreparedQuery<io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row>> preparedQuery(
      String sql, PrepareOptions options);

  /**
   * The pool's limit of statements in flight ({@link Builder#maxInFlight}; by default what the data
   * sources' and replicas' pools hold: connections plus wait queues); 0 when there is none.
   */
  default int maxInFlight() {
    return 0;
  }

  /** The data source names, in rule order. */
  Set<String> dataSourceNames();

  /** The underlying Vert.x pool of a data source (the router does not own its statements). */
  Pool pool(String dataSource);

  /**
   * Cancels what runs on {@code connection}, taken from {@link #pool}{@code (dataSource)}: {@code
   * KILL QUERY} on its server, sent on a connection of its own (a lock wait or a long scan ends
   * with error 1317; nothing running: nothing happens). If {@code running} (the statements sent on
   * the connection) has not completed soon after the kill answered (250 ms: a statement queued
   * behind the killed one started, or the kill landed between a prepared statement's PREPARE and
   * EXECUTE), the session is killed ({@code KILL CONNECTION}): every statement on it fails and the
   * server rolls back its open transaction (a prepared XA branch survives, as it survives any
   * disconnect). A kill names the server's thread, not a statement, so give the connection back to
   * the pool only once the returned future has completed; when it failed (the session killed, the
   * server did not answer the kill, the thread is unknown) close the connection for real instead,
   * so that a late kill cannot meet the next borrower's statement. reactive-tx uses it for an XA
   * branch or a TCC phase whose statement still runs when its transaction rolls back.
   */
  default Future<Void> cancelRunning(
      String dataSource, io.vertx.sqlclient.SqlConnection connection, Future<?> running) {
    return Future.failedFuture(new UnsupportedOperationException("cancelRunning"));
  }

  /**
   * A copy of the options of a data source's pool, as the pool was built with them (the wait
   * queue's default bound applied).
   *
   * @throws IllegalArgumentException for an unknown data source
   */
  io.vertx.sqlclient.PoolOptions poolOptions(String dataSource);

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
   * circuit breaker. Throws {@link UnsupportedSqlException} when the statement would be refused,
   * {@link ParameterCountException} when {@code params} does not match its placeholders.
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

    /**
     * Default size of each connection's prepared statement cache (Vert.x's, off by default in
     * Vert.x): with it a routed prepared statement costs one round trip (execute), not two (prepare
     * + execute) plus a close.
     */
    public static final int DEFAULT_STATEMENT_CACHE_SIZE = 256;

    /**
     * Default {@code PoolOptions.maxWaitQueueSize} of the pools shardkit creates (data sources and
     * replicas) when the given options leave Vert.x's default, -1 (unbounded): 1024 statements or
     * connection requests waiting per pool. Beyond it a statement is refused at once with {@link
     * ShardOverloadedException} instead of waiting. Why bounded: an unbounded queue under overload
     * grows until every caller's deadline passes and nothing useful completes (the open-loop
     * benchmark's plain pools completed a third of their maximum at twice it). Why 1024: larger
     * than what reactive-tx's admission control lets in by default (256 XA and 256 TCC/Saga
     * transactions, each waiting for at most one connection of a pool at a time), so the step of an
     * admitted transaction is not the one refused; and short enough to drain well inside a deadline
     * (1024 one-millisecond statements on 4 connections: about 0.25 s). A value set explicitly is
     * kept; -1 cannot be told apart from not set, so for an unbounded queue set {@link
     * Integer#MAX_VALUE}.
     */
    public static final int DEFAULT_MAX_WAIT_QUEUE_SIZE = 1024;

    /**
     * {@link #maxInFlight(int)}'s default: derived from the pools, the sum over the data sources
     * and their replicas of {@code maxSize + maxWaitQueueSize} (capped at {@link
     * Integer#MAX_VALUE}), i.e. as many statements as the pools can hold running and waiting. Under
     * normal load nothing changes; a statement beyond it is refused before it costs a route and a
     * pool's refusal.
     */
    public static final int DEFAULT_MAX_IN_FLIGHT = -1;

    /**
     * {@link #queueDelayTarget(Duration)}'s default, 10 ms: the wait for a connection that, when
     * every statement of a data source exceeded it for a whole {@link #queueDelayInterval
     * interval}, marks a standing queue at that data source. Chosen by measurement (benchmarks
     * README, issue 21): a 1 ms point select waits a few ms in a short burst; at twice the capacity
     * a 1024-deep queue means waits of 0.25 s and more.
     */
    public static final Duration DEFAULT_QUEUE_DELAY_TARGET = Duration.ofMillis(10);

    /** {@link #queueDelayInterval(Duration)}'s default, 100 ms. */
    public static final Duration DEFAULT_QUEUE_DELAY_INTERVAL = Duration.ofMillis(100);

    /** Default deadline of a transaction. */
    public static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofSeconds(30);

    private final Vertx vertx;
    private ShardingRules rules;
    private final Map<String, MySQLConnectOptions> connectOptions = new LinkedHashMap<>();
    private final Map<String, PoolOptions> poolOptions = new LinkedHashMap<>();
    private int planCacheSize = DEFAULT_PLAN_CACHE_SIZE;
    private int statementCacheSize = DEFAULT_STATEMENT_CACHE_SIZE;
    private io.opentelemetry.api.OpenTelemetry openTelemetry;
    private io.micrometer.core.instrument.MeterRegistry meterRegistry;
    private CircuitBreakerOptions circuitBreaker = CircuitBreakerOptions.defaults();
    private Duration transactionTimeout = DEFAULT_TRANSACTION_TIMEOUT;
    private Function<ShardedPool, ShardTransactionManager> transactionManager;
    private boolean nonAtomicMultiNodeWrites;
    private final Map<String, java.util.List<Replica>> replicas = new LinkedHashMap<>();
    private ReadWriteSplittingOptions readWriteSplitting = ReadWriteSplittingOptions.defaults();
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private Duration queueDelayTarget = DEFAULT_QUEUE_DELAY_TARGET;
    private Duration queueDelayInterval = DEFAULT_QUEUE_DELAY_INTERVAL;

    /**
     * A read replica of a data source.
     *
     * @param dataSource the data source (its primary is the one given by {@link #dataSource})
     * @param name the replica's name, for metrics and messages
     * @param connect where it is
     * @param pool how its pool is sized
     * @param weight its share of the reads under {@link
     *     ReadWriteSplittingOptions.LoadBalancer#WEIGHT}
     */
    public record Replica(
        String dataSource,
        String name,
        MySQLConnectOptions connect,
        PoolOptions pool,
        int weight) {}

    private Builder(Vertx vertx) {
      this.vertx = Objects.requireNonNull(vertx, "vertx");
    }

    /** The sharding rules (required). */
    public Builder rules(ShardingRules rules) {
      this.rules = Objects.requireNonNull(rules, "rules");
      return this;
    }

    /**
     * A data source: where it is and how its pool is sized; a pool whose wait queue is unbounded
     * (Vert.x's default) gets {@link #DEFAULT_MAX_WAIT_QUEUE_SIZE}.
     */
    public Builder dataSource(String name, MySQLConnectOptions connect, PoolOptions pool) {
      connectOptions.put(
          Objects.requireNonNull(name, "name"),
          new MySQLConnectOptions(Objects.requireNonNull(connect, "connect")));
      poolOptions.put(name, boundedWaitQueue(pool));
      return this;
    }

    /**
     * A copy of {@code given} (Vert.x's defaults when null) whose wait queue is bounded by {@link
     * #DEFAULT_MAX_WAIT_QUEUE_SIZE} unless it sets a bound of its own.
     */
    static PoolOptions boundedWaitQueue(PoolOptions given) {
      PoolOptions out = new PoolOptions(given == null ? new PoolOptions() : given);
      if (out.getMaxWaitQueueSize() < 0) {
        out.setMaxWaitQueueSize(DEFAULT_MAX_WAIT_QUEUE_SIZE);
      }
      return out;
    }

    /**
     * A read replica of {@code dataSource} with weight 1: reads outside a transaction go to the
     * data source's healthy replicas (see {@link ReadWriteSplittingOptions}); writes, locking reads
     * and everything in a transaction go to the primary.
     */
    public Builder replica(
        String dataSource, String name, MySQLConnectOptions connect, PoolOptions pool) {
      return replica(dataSource, name, connect, pool, 1);
    }

    /** A read replica of {@code dataSource} with a weight for the {@code WEIGHT} load balancer. */
    public Builder replica(
        String dataSource, String name, MySQLConnectOptions connect, PoolOptions pool, int weight) {
      Objects.requireNonNull(dataSource, "dataSource");
      if (name == null || name.isBlank()) {
        throw new ShardingConfigurationException(
            "dataSources." + dataSource + ".replicas",
            "a replica needs a name, got '" + name + "'");
      }
      if (weight < 1) {
        throw new ShardingConfigurationException(
            "dataSources." + dataSource + ".replicas." + name + ".weight",
            "must be a positive integer, got " + weight);
      }
      replicas
          .computeIfAbsent(dataSource, k -> new java.util.ArrayList<>())
          .add(
              new Replica(
                  dataSource,
                  name,
                  new MySQLConnectOptions(Objects.requireNonNull(connect, "connect")),
                  boundedWaitQueue(pool),
                  weight));
      return this;
    }

    /** How reads are spread over replicas and when a replica is too far behind. */
    public Builder readWriteSplitting(ReadWriteSplittingOptions options) {
      this.readWriteSplitting = Objects.requireNonNull(options, "options");
      return this;
    }

    public ReadWriteSplittingOptions readWriteSplitting() {
      return readWriteSplitting;
    }

    /** The replicas given, by data source. */
    public Map<String, java.util.List<Replica>> replicas() {
      return replicas;
    }

    /** Several data sources with the same pool options. */
    public Builder dataSources(Map<String, MySQLConnectOptions> connects, PoolOptions pool) {
      connects.forEach((name, connect) -> dataSource(name, connect, pool));
      return this;
    }

    /**
     * Reads the configuration from JSON (e.g. from Vert.x config): {@code {"rules": {rule JSON},
     * "dataSources": {"ds_0": {MySQLConnectOptions JSON, optionally "pool": {PoolOptions JSON}},
     * ...}, "pool": {shared PoolOptions JSON}, "planCacheSize": 4096, "statementCacheSize": 256,
     * "transactionTimeoutMs": 30000, "circuitBreaker": {CircuitBreakerOptions JSON},
     * "nonAtomicMultiNodeWrites": false, "readWriteSplitting": {ReadWriteSplittingOptions JSON},
     * "maxInFlight": -1, "queueDelayTargetMs": 10, "queueDelayIntervalMs": 100}}. A data source may
     * list read replicas: {@code "ds_0": {..., "replicas": {"ds_0_r1": {MySQLConnectOptions JSON,
     * "weight": 1, "pool": {...}}}}}.
     *
     * @throws ShardingConfigurationException naming the field path and value of an invalid entry
     */
    public Builder config(JsonObject json) {
      if (json == null) {
        throw new ShardingConfigurationException("config", "must not be null");
      }
      if (!(json.getValue("rules") instanceof JsonObject rulesJson)) {
        throw new ShardingConfigurationException(
            "rules", "required object, got " + json.getValue("rules"));
      }
      rules(ShardingRules.fromJson(rulesJson));
      Object shared = json.getValue("pool");
      if (shared != null && !(shared instanceof JsonObject)) {
        throw new ShardingConfigurationException("pool", "must be an object, got " + shared);
      }
      if (!(json.getValue("dataSources") instanceof JsonObject sources)) {
        throw new ShardingConfigurationException(
            "dataSources", "required object, got " + json.getValue("dataSources"));
      }
      for (String name : sources.fieldNames()) {
        if (!(sources.getValue(name) instanceof JsonObject source)) {
          throw new ShardingConfigurationException(
              "dataSources." + name, "must be an object, got " + sources.getValue(name));
        }
        JsonObject connect = source.copy();
        Object replicaJson = connect.remove("replicas");
        Object own = connect.remove("pool");
        if (own != null && !(own instanceof JsonObject)) {
          throw new ShardingConfigurationException(
              "dataSources." + name + ".pool", "must be an object, got " + own);
        }
        JsonObject poolJson =
            own != null
                ? (JsonObject) own
                : shared != null ? (JsonObject) shared : new JsonObject();
        try {
          dataSource(name, new MySQLConnectOptions(connect), new PoolOptions(poolJson));
        } catch (RuntimeException e) {
          throw new ShardingConfigurationException(
              "dataSources." + name, "invalid options " + connect + ": " + e.getMessage(), e);
        }
        if (replicaJson != null) {
          if (!(replicaJson instanceof JsonObject replicaObjects)) {
            throw new ShardingConfigurationException(
                "dataSources." + name + ".replicas", "must be an object, got " + replicaJson);
          }
          for (String replica : replicaObjects.fieldNames()) {
            String field = "dataSources." + name + ".replicas." + replica;
            if (!(replicaObjects.getValue(replica) instanceof JsonObject r)) {
              throw new ShardingConfigurationException(
                  field, "must be an object, got " + replicaObjects.getValue(replica));
            }
            JsonObject rc = r.copy();
            Object weight = rc.remove("weight");
            Object rpool = rc.remove("pool");
            if (weight != null
                && (!(weight instanceof Number n) || n.intValue() != n.doubleValue())) {
              throw new ShardingConfigurationException(
                  field + ".weight", "must be a positive integer, got " + weight);
            }
            if (rpool != null && !(rpool instanceof JsonObject)) {
              throw new ShardingConfigurationException(
                  field + ".pool", "must be an object, got " + rpool);
            }
            MySQLConnectOptions rconnect;
            try {
              rconnect = new MySQLConnectOptions(rc);
            } catch (RuntimeException e) {
              throw new ShardingConfigurationException(
                  field, "invalid options " + rc + ": " + e.getMessage(), e);
            }
            replica(
                name,
                replica,
                rconnect,
                new PoolOptions(rpool != null ? (JsonObject) rpool : poolJson),
                weight == null ? 1 : ((Number) weight).intValue());
          }
        }
      }
      if (json.containsKey("readWriteSplitting")) {
        if (!(json.getValue("readWriteSplitting") instanceof JsonObject rw)) {
          throw new ShardingConfigurationException(
              "readWriteSplitting",
              "must be an object, got " + json.getValue("readWriteSplitting"));
        }
        readWriteSplitting(ReadWriteSplittingOptions.fromJson(rw));
      }
      if (json.containsKey("circuitBreaker")) {
        if (!(json.getValue("circuitBreaker") instanceof JsonObject breaker)) {
          throw new ShardingConfigurationException(
              "circuitBreaker", "must be an object, got " + json.getValue("circuitBreaker"));
        }
        circuitBreaker(CircuitBreakerOptions.fromJson(breaker));
      }
      if (json.containsKey("planCacheSize")) {
        Object size = json.getValue("planCacheSize");
        if (!(size instanceof Number n) || n.intValue() != n.doubleValue()) {
          throw new ShardingConfigurationException(
              "planCacheSize", "must be an integer, got " + size);
        }
        planCacheSize(n.intValue());
      }
      if (json.containsKey("statementCacheSize")) {
        Object size = json.getValue("statementCacheSize");
        if (!(size instanceof Number n) || n.intValue() != n.doubleValue()) {
          throw new ShardingConfigurationException(
              "statementCacheSize", "must be an integer, got " + size);
        }
        statementCacheSize(n.intValue());
      }
      if (json.containsKey("transactionTimeoutMs")) {
        Object ms = json.getValue("transactionTimeoutMs");
        if (!(ms instanceof Number n) || n.longValue() != n.doubleValue() || n.longValue() < 1) {
          throw new ShardingConfigurationException(
              "transactionTimeoutMs", "must be a positive integer, got " + ms);
        }
        transactionTimeout(Duration.ofMillis(n.longValue()));
      }
      if (json.containsKey("maxInFlight")) {
        Object limit = json.getValue("maxInFlight");
        if (!(limit instanceof Number n) || n.intValue() != n.doubleValue()) {
          throw new ShardingConfigurationException(
              "maxInFlight",
              "must be an integer: -1 (derived from the pools), 0 (no limit) or positive, got "
                  + limit);
        }
        maxInFlight(n.intValue());
      }
      if (json.containsKey("queueDelayTargetMs")) {
        Object ms = json.getValue("queueDelayTargetMs");
        if (!(ms instanceof Number n) || n.longValue() != n.doubleValue() || n.longValue() < 0) {
          throw new ShardingConfigurationException(
              "queueDelayTargetMs", "must be an integer, 0 (off) or positive, got " + ms);
        }
        queueDelayTarget(Duration.ofMillis(n.longValue()));
      }
      if (json.containsKey("queueDelayIntervalMs")) {
        Object ms = json.getValue("queueDelayIntervalMs");
        if (!(ms instanceof Number n) || n.longValue() != n.doubleValue() || n.longValue() < 1) {
          throw new ShardingConfigurationException(
              "queueDelayIntervalMs", "must be a positive integer, got " + ms);
        }
        queueDelayInterval(Duration.ofMillis(n.longValue()));
      }
      if (json.containsKey("nonAtomicMultiNodeWrites")) {
        if (!(json.getValue("nonAtomicMultiNodeWrites") instanceof Boolean b)) {
          throw new ShardingConfigurationException(
              "nonAtomicMultiNodeWrites",
              "must be true or false, got " + json.getValue("nonAtomicMultiNodeWrites"));
        }
        nonAtomicMultiNodeWrites(b);
      }
      return this;
    }

    /**
     * At most this many statements of the pool in flight (JSON {@code "maxInFlight"}): a statement
     * ({@code query}, {@code preparedQuery} execute or batch, {@code stream}) beyond it is refused
     * at once with {@link PoolOverloadedException} (a {@link ShardOverloadedException}), before it
     * is parsed or routed and with nothing sent. A statement counts until its result is answered (a
     * stream: until it ends, fails or is closed). Statements of an open connection ({@link
     * ShardedPool#getConnection()}, {@code withConnection}) or transaction ({@code
     * withTransaction}, a manager's connections) count too but are never refused: work already
     * started goes first (transactions have their own admission, reactive-tx's {@code
     * maxInFlight}). {@link #DEFAULT_MAX_IN_FLIGHT} (-1, the default) derives it from the pools; 0
     * turns the limit off (statements are still counted in {@code shardkit.router.in_flight}).
     *
     * @throws ShardingConfigurationException for a value below -1
     */
    public Builder maxInFlight(int limit) {
      if (limit < DEFAULT_MAX_IN_FLIGHT) {
        throw new ShardingConfigurationException(
            "maxInFlight",
            "must be -1 (derived from the pools), 0 (no limit) or positive, got " + limit);
      }
      this.maxInFlight = limit;
      return this;
    }

    /** As set: -1 (derived from the pools), 0 (no limit) or the limit. */
    public int maxInFlight() {
      return maxInFlight;
    }

    /**
     * The limit the pool applies: {@link #maxInFlight()} when set, else the sum over the data
     * sources and replicas given so far of {@code maxSize + maxWaitQueueSize} (capped at {@link
     * Integer#MAX_VALUE}); 0 means none.
     */
    public int effectiveMaxInFlight() {
      if (maxInFlight != DEFAULT_MAX_IN_FLIGHT) {
        return maxInFlight;
      }
      long sum = 0;
      for (PoolOptions o : poolOptions.values()) {
        sum += (long) o.getMaxSize() + Math.max(0, o.getMaxWaitQueueSize());
      }
      for (java.util.List<Replica> list : replicas.values()) {
        for (Replica r : list) {
          sum += (long) r.pool().getMaxSize() + Math.max(0, r.pool().getMaxWaitQueueSize());
        }
      }
      return (int) Math.min(Integer.MAX_VALUE, Math.max(1, sum));
    }

    /**
     * Adaptive admission per data source (JSON {@code "queueDelayTargetMs"}, default {@link
     * #DEFAULT_QUEUE_DELAY_TARGET}; {@link Duration#ZERO} turns it off). The pool's own statements
     * take their connections from a data source's pool one by one, and the time until the pool
     * hands one over is their wait. When the shortest wait over a whole {@link #queueDelayInterval
     * interval} is above this target (a standing queue, not a burst: every statement waited), the
     * data source's limit of outstanding statements (waiting for or holding a connection) falls in
     * proportion, down to its {@code maxSize} at the lowest; each interval whose shortest wait is
     * at or below the target doubles it again, up to {@code maxSize + maxWaitQueueSize} (the pool's
     * own bound, so that a burst after a quiet interval queues as without it). A new statement of
     * the pool that needs a data source at its limit is refused at once, after routing and before a
     * connection is asked for anywhere, with {@link ShardOverloadedException} naming the data
     * source. Statements of an open connection or transaction are never refused by it (work already
     * started goes first); reactive-tx's transactions take their connections from the data sources'
     * pools themselves and are neither timed nor refused by it. {@link #maxInFlight} stays the hard
     * cap over the whole pool, checked first.
     *
     * @throws ShardingConfigurationException for a negative or null duration
     */
    public Builder queueDelayTarget(Duration target) {
      if (target == null || target.isNegative()) {
        throw new ShardingConfigurationException(
            "queueDelayTarget", "must be zero (off) or positive, got " + target);
      }
      this.queueDelayTarget = target;
      return this;
    }

    public Duration queueDelayTarget() {
      return queueDelayTarget;
    }

    /**
     * The interval over which {@link #queueDelayTarget(Duration)} judges the shortest wait (JSON
     * {@code "queueDelayIntervalMs"}, default {@link #DEFAULT_QUEUE_DELAY_INTERVAL}): long enough
     * that a burst drains inside it, short enough that a standing queue is cut soon.
     *
     * @throws ShardingConfigurationException for a null, zero or negative duration
     */
    public Builder queueDelayInterval(Duration interval) {
      if (interval == null || interval.isNegative() || interval.isZero()) {
        throw new ShardingConfigurationException(
            "queueDelayInterval", "must be positive, got " + interval);
      }
      this.queueDelayInterval = interval;
      return this;
    }

    public Duration queueDelayInterval() {
      return queueDelayInterval;
    }

    /**
     * Lets a pool without a transaction manager run a write outside a transaction that reaches
     * several data sources, each in autocommit: when it fails on one data source, the others keep
     * their changes (JSON {@code "nonAtomicMultiNodeWrites"}, default false: such a write is
     * refused with {@link NonAtomicWriteException} before any I/O). A pool with a manager runs such
     * a write as an implicit atomic transaction and ignores this setting.
     */
    public Builder nonAtomicMultiNodeWrites(boolean allowed) {
      this.nonAtomicMultiNodeWrites = allowed;
      return this;
    }

    public boolean nonAtomicMultiNodeWrites() {
      return nonAtomicMultiNodeWrites;
    }

    /**
     * The deadline of a transaction that does not give its own (default {@link
     * #DEFAULT_TRANSACTION_TIMEOUT}); there is no "no timeout".
     */
    public Builder transactionTimeout(Duration timeout) {
      if (timeout == null || timeout.isZero() || timeout.isNegative()) {
        throw new ShardingConfigurationException(
            "transactionTimeoutMs", "must be positive, got " + timeout);
      }
      this.transactionTimeout = timeout;
      return this;
    }

    public Duration transactionTimeout() {
      return transactionTimeout;
    }

    /**
     * Makes transactions atomic across shards: the pool calls {@code factory} once, with itself,
     * when it is built, and begins every transaction through the manager (see {@link
     * ShardTransactionManager}). Without one a transaction stays on one data source.
     */
    public Builder transactionManager(Function<ShardedPool, ShardTransactionManager> factory) {
      this.transactionManager = Objects.requireNonNull(factory, "transactionManager");
      return this;
    }

    public Function<ShardedPool, ShardTransactionManager> transactionManager() {
      return transactionManager;
    }

    /**
     * Bound of the plan cache (distinct SQL texts, LRU); default {@value #DEFAULT_PLAN_CACHE_SIZE}.
     */
    public Builder planCacheSize(int size) {
      if (size < 1) {
        throw new ShardingConfigurationException(
            "planCacheSize", "must be at least 1, got " + size);
      }
      this.planCacheSize = size;
      return this;
    }

    /**
     * Turns on Vert.x's prepared statement cache of every data source's and replica's connections
     * with this many statements per connection (default {@value #DEFAULT_STATEMENT_CACHE_SIZE}); 0
     * leaves each data source's {@code MySQLConnectOptions} as given (the cache is off in Vert.x by
     * default).
     */
    public Builder statementCacheSize(int size) {
      if (size < 0) {
        throw new ShardingConfigurationException(
            "statementCacheSize", "must be 0 (as the connect options say) or more, got " + size);
      }
      this.statementCacheSize = size;
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
     * The connect options a data source's or replica's pool uses: as given, with the prepared
     * statement cache on when {@link #statementCacheSize} is above 0.
     */
    public MySQLConnectOptions effectiveConnectOptions(MySQLConnectOptions given) {
      MySQLConnectOptions out = new MySQLConnectOptions(given);
      if (statementCacheSize > 0) {
        out.setCachePreparedStatements(true).setPreparedStatementCacheMaxSize(statementCacheSize);
      }
      return out;
    }

    /**
     * Validates and builds: every data source the rules name needs connect options, and no options
     * may name a data source the rules do not know.
     */
    public ShardedPool build() {
      if (rules == null) {
        throw new ShardingConfigurationException("rules", "required");
      }
      for (String ds : rules.dataSourceNames()) {
        if (!connectOptions.containsKey(ds)) {
          throw new ShardingConfigurationException(
              "dataSources." + ds,
              "the rules use data source " + ds + " but no connect options were given");
        }
      }
      for (String ds : connectOptions.keySet()) {
        if (!rules.dataSourceNames().contains(ds)) {
          throw new ShardingConfigurationException(
              "dataSources." + ds, "unknown to the rules (known: " + rules.dataSourceNames() + ")");
        }
      }
      java.util.Set<String> names = new java.util.HashSet<>(rules.dataSourceNames());
      for (Map.Entry<String, java.util.List<Replica>> e : replicas.entrySet()) {
        if (!rules.dataSourceNames().contains(e.getKey())) {
          throw new ShardingConfigurationException(
              "dataSources." + e.getKey() + ".replicas",
              "replicas of a data source the rules do not know (known: "
                  + rules.dataSourceNames()
                  + ")");
        }
        for (Replica r : e.getValue()) {
          if (!names.add(r.name())) {
            throw new ShardingConfigurationException(
                "dataSources." + e.getKey() + ".replicas." + r.name(),
                "the name " + r.name() + " is already a data source or another replica");
          }
        }
      }
      return ShardedPoolImpl.create(this);
    }
  }
}
