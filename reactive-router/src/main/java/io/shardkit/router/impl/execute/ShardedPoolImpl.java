package io.shardkit.router.impl.execute;

import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardedRowStream;
import io.shardkit.router.ShardingRules;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.route.Planner;
import io.shardkit.router.impl.route.TxContextHints;
import io.shardkit.router.spi.ShardConnectionProvider;
import io.shardkit.router.spi.ShardTransaction;
import io.shardkit.router.spi.ShardTransactionManager;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.TransactionPropagation;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.impl.SqlClientInternal;
import io.vertx.sqlclient.spi.DatabaseMetadata;
import io.vertx.sqlclient.spi.Driver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The {@link ShardedPool}: one Vert.x MySQL pool per data source plus the statement pipeline.
 *
 * <p>It implements Vert.x's internal {@code SqlClientInternal} (and only this class touches it)
 * because {@code SqlTemplate} casts its client to it to learn the placeholder syntax; the driver is
 * the MySQL one of the underlying pools.
 */
public final class ShardedPoolImpl implements ShardedPool, SqlClientInternal {

  private final ShardingRules rules;
  private final Map<String, Pool> pools;
  private final StatementRunner runner;
  private final StatementRunner.PooledSource poolSource;
  private final ReadReplicas replicas;
  private final ShardBreakers breakers;
  private final RouterMetrics metrics;
  private final QueueDelayAdmission queueDelay;
  private final StatementCancel cancel;

  /** Where each data source's primary is (a statement past its deadline is killed there). */
  private final Map<String, io.vertx.mysqlclient.MySQLConnectOptions> servers;

  private final Vertx vertx;
  private final io.shardkit.router.impl.schema.SchemaCatalog catalog;
  private final PlanCache cache;
  private final Duration transactionTimeout;
  private final ShardTransactionManager transactionManager;
  private final PoolTransactions transactions;
  private final boolean ssl;
  private volatile Future<DatabaseMetadata> metadata;
  private volatile boolean closed;
  private final Map<String, io.vertx.sqlclient.PoolOptions> poolOptions;

  private ShardedPoolImpl(
      ShardedPool.Builder builder, io.shardkit.router.impl.schema.SchemaCatalog preset) {
    this.vertx = builder.vertx();
    this.rules = builder.rules();
    this.cancel = new StatementCancel(vertx);
    Map<String, io.vertx.mysqlclient.MySQLConnectOptions> servers = new LinkedHashMap<>();
    Map<String, Pool> created = new LinkedHashMap<>();
    for (String ds : rules.dataSourceNames()) {
      servers.put(ds, builder.effectiveConnectOptions(builder.connectOptions().get(ds)));
      created.put(
          ds,
          MySQLBuilder.pool()
              .with(builder.poolOptions().get(ds))
              .connectingTo(servers.get(ds))
              // every connection's server thread id, read once as it joins the pool: a statement
              // on it can be killed whoever took it (pool statements, transactions, XA branches)
              .withConnectHandler(cancel::learnAndRelease)
              .using(vertx)
              .build());
    }
    this.pools = Collections.unmodifiableMap(created);
    this.servers = Collections.unmodifiableMap(servers);
    Map<String, io.vertx.sqlclient.PoolOptions> built = new LinkedHashMap<>();
    builder.poolOptions().forEach((ds, o) -> built.put(ds, new io.vertx.sqlclient.PoolOptions(o)));
    this.poolOptions = Collections.unmodifiableMap(built);
    this.transactionTimeout = builder.transactionTimeout();
    this.ssl =
        builder.connectOptions().values().iterator().next().getSslMode()
            != io.vertx.mysqlclient.SslMode.DISABLED;
    this.transactions = new PoolTransactions(vertx, this);
    this.catalog =
        preset != null ? preset : new io.shardkit.router.impl.schema.SchemaCatalog(rules);
    PlanCache cache = new PlanCache(Planner.of(rules, catalog), builder.planCacheSize());
    this.cache = cache;
    io.micrometer.core.instrument.MeterRegistry registry = builder.meterRegistry();
    this.metrics = new RouterMetrics(registry, cache);
    Map<String, Integer> maxSizes = new LinkedHashMap<>();
    builder.poolOptions().forEach((ds, options) -> maxSizes.put(ds, options.getMaxSize()));
    metrics.pools(pools, maxSizes);
    if (registry != io.micrometer.core.instrument.Metrics.globalRegistry) {
      // the leak guard's gauges (open scopes, pinned resources) next to the pool's meters
      io.shardkit.context.TxScope.registry().bindTo(registry);
    }
    this.breakers =
        new ShardBreakers(vertx, rules.dataSourceNames(), builder.circuitBreaker(), metrics);
    this.runner =
        new StatementRunner(
            vertx,
            cache,
            io.shardkit.router.impl.route.Router.of(rules, catalog),
            Rewriter.of(),
            TxContextHints.INSTANCE,
            new RouterTracing(
                builder.openTelemetry().getTracer("io.shardkit.router"), builder.connectOptions()),
            metrics,
            breakers,
            builder.effectiveMaxInFlight());
    this.replicas =
        ReadReplicas.create(
            vertx,
            builder.replicas(),
            builder.readWriteSplitting(),
            pools::get,
            registry,
            builder::effectiveConnectOptions,
            cancel::learnAndRelease);
    Duration target = builder.queueDelayTarget();
    if (!target.isZero()) {
      Map<String, Integer> queues = new LinkedHashMap<>();
      builder.poolOptions().forEach((ds, options) -> queues.put(ds, options.getMaxWaitQueueSize()));
      this.queueDelay =
          new QueueDelayAdmission(
              pools,
              servers,
              cancel,
              maxSizes,
              queues,
              target.toNanos(),
              builder.queueDelayInterval().toNanos(),
              metrics,
              replicas);
    } else {
      this.queueDelay = null;
    }
    this.poolSource =
        new StatementRunner.PooledSource(
            new StatementRunner.ClientSource() {
              @Override
              public Future<SqlClient> clientFor(String ds) {
                return Future.succeededFuture(pools.get(ds));
              }

              @Override
              public <T> Future<T> run(String ds, Function<SqlClient, Future<T>> op) {
                // without adaptive admission (which watches its own statements): a statement
                // past its caller's deadline is not sent, or killed if running
                return cancel.run(pools.get(ds), servers.get(ds), op);
              }

              @Override
              public <T> Future<T> runOn(
                  ReadReplicas.Member replica, Function<SqlClient, Future<T>> op) {
                return cancel.run(replica.pool, replica.connect, op);
              }
            },
            new ImplicitTransactions(
                this, builder.transactionManager() != null, builder.nonAtomicMultiNodeWrites()),
            replicas,
            null,
            true,
            queueDelay);
    // Load the parser's classes on a worker (their static initialisation takes hundreds of
    // milliseconds once per JVM, and any other thread parsing meanwhile waits on the class lock),
    // and let the first statements wait for it with the first schema read: never on an event loop.
    Future<Object> parserLoaded =
        vertx.executeBlocking(
            () -> {
              io.shardkit.router.impl.parse.StatementParser.warmUp();
              return null;
            },
            false);
    runner.schemaReady(
        Future.join(loadSchema(), parserLoaded),
        tables -> catalog.load(tables, pools::get).onComplete(ar -> cache.clear()),
        catalog::unknown);
    this.transactionManager =
        builder.transactionManager() == null ? null : builder.transactionManager().apply(this);
  }

  /** Builds the pool of a validated builder. */
  public static ShardedPool create(ShardedPool.Builder builder) {
    return new ShardedPoolImpl(builder, null);
  }

  /**
   * Builds a pool that starts with this metadata instead of none (it still reads the shards, and
   * keeps the preset while they do not answer): for benchmarks that route without servers.
   */
  public static ShardedPool create(
      ShardedPool.Builder builder, io.shardkit.router.impl.schema.SchemaCatalog preset) {
    return new ShardedPoolImpl(builder, preset);
  }

  /**
   * Reads the column types of every logical table; statements wait for it. When a shard cannot be
   * read, statements go on without types (exact, but without the conversions and savings the types
   * allow) and the load is tried again every few seconds until it succeeds.
   */
  private Future<Void> loadSchema() {
    return catalog
        .loadAll(pools::get)
        .onSuccess(schema -> cache.clear())
        .onFailure(
            e -> {
              if (!closed) {
                vertx.setTimer(
                    5_000,
                    t -> {
                      if (!closed) {
                        loadSchema();
                      }
                    });
              }
            })
        .<Void>mapEmpty()
        .otherwiseEmpty();
  }

  @Override
  public Future<Void> refreshSchema() {
    return catalog.loadAll(pools::get).onComplete(ar -> cache.clear()).mapEmpty();
  }

  @Override
  public Future<SqlConnection> getConnection() {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("pool closed"));
    }
    Future<DatabaseMetadata> known = metadata;
    if (known == null || known.failed()) {
      // the servers' metadata, read once from a connection of the first data source
      known =
          pools
              .values()
              .iterator()
              .next()
              .getConnection()
              .compose(c -> c.close().map(c.databaseMetadata()));
      metadata = known;
    }
    // the cached metadata future completes on the context that first asked: answer on this one
    return StatementRunner.onCaller(
        vertx.getOrCreateContext(), known.map(md -> new RoutedConnection(this, md)));
  }

  @Override
  public <T> Future<T> withConnection(Function<SqlConnection, Future<T>> fn) {
    return transactions.withConnection(fn);
  }

  @Override
  public <T> Future<T> withTransaction(Function<SqlConnection, Future<T>> fn) {
    return transactions.withTransaction(TransactionPropagation.NONE, transactionTimeout, fn);
  }

  @Override
  public <T> Future<T> withTransaction(
      TransactionPropagation propagation, Function<SqlConnection, Future<T>> fn) {
    return transactions.withTransaction(propagation, transactionTimeout, fn);
  }

  @Override
  public <T> Future<T> withTransaction(Duration timeout, Function<SqlConnection, Future<T>> fn) {
    return transactions.withTransaction(TransactionPropagation.NONE, timeout, fn);
  }

  @Override
  public Duration transactionTimeout() {
    return transactionTimeout;
  }

  @Override
  public ShardTransactionManager transactionManager() {
    return transactionManager;
  }

  @Override
  public int size() {
    int size = 0;
    for (Pool pool : pools.values()) {
      size += pool.size();
    }
    return size;
  }

  /**
   * Starts a transaction with a deadline {@code timeout} from now (the pool's default when null),
   * capped by the enclosing TxScope's deadline: through the manager when there is one, locally on
   * one data source otherwise.
   */
  Future<ShardTransaction> beginTransaction(Duration timeout) {
    return beginTransaction(timeout, ShardTransactionManager.Admitted.NONE);
  }

  /** The manager's admission of this transaction (before the pool set it up). */
  ShardTransactionManager.Admitted admitTransaction() {
    return transactionManager != null
        ? transactionManager.admit()
        : ShardTransactionManager.Admitted.NONE;
  }

  /** {@link #beginTransaction(Duration)} for a transaction {@code admitted} beforehand. */
  Future<ShardTransaction> beginTransaction(
      Duration timeout, ShardTransactionManager.Admitted admitted) {
    Duration effective = timeout == null ? transactionTimeout : timeout;
    java.util.Optional<TxContext> scope = TxScope.current();
    if (scope.isPresent()) {
      Duration remaining = scope.get().deadline().remaining();
      if (remaining.compareTo(effective) < 0) {
        effective = remaining.isZero() || remaining.isNegative() ? Duration.ofMillis(1) : remaining;
      }
    }
    if (transactionManager != null) {
      return StatementRunner.onCaller(
          vertx.getOrCreateContext(),
          admitted == ShardTransactionManager.Admitted.NONE
              ? transactionManager.begin(this, effective)
              : transactionManager.begin(this, effective, admitted));
    }
    admitted.release();
    String globalId = scope.map(TxContext::globalId).orElseGet(TxContext::newGlobalId);
    return Future.succeededFuture(
        new LocalTransaction(vertx, globalId, effective, pools::get, cancel, servers::get));
  }

  /**
   * A local transaction on one data source with the pool's default deadline (capped by the
   * enclosing TxScope's), for a write that sends several statements to that data source.
   */
  Future<ShardTransaction> beginLocalTransaction() {
    Duration effective = transactionTimeout;
    java.util.Optional<TxContext> scope = TxScope.current();
    if (scope.isPresent()) {
      Duration remaining = scope.get().deadline().remaining();
      if (remaining.compareTo(effective) < 0) {
        effective = remaining.isZero() || remaining.isNegative() ? Duration.ofMillis(1) : remaining;
      }
    }
    String globalId = scope.map(TxContext::globalId).orElseGet(TxContext::newGlobalId);
    return Future.succeededFuture(
        new LocalTransaction(vertx, globalId, effective, pools::get, cancel, servers::get));
  }

  /** Where a transaction's statements run. */
  StatementRunner.ClientSource sourceOf(ShardTransaction tx) {
    return tx instanceof LocalTransaction local ? local : tx::clientFor;
  }

  StatementRunner.PooledSource poolSource() {
    return poolSource;
  }

  @Override
  public List<io.shardkit.router.ReplicaStatus> replicaStatus() {
    return replicas.status();
  }

  @Override
  public Pool replicaPool(String replica) {
    return replicas.pool(replica);
  }

  StatementRunner runner() {
    return runner;
  }

  boolean isSsl() {
    return ssl;
  }

  /** Options with no entries are what no options are; the router honours no others. */
  static void checkOptions(PrepareOptions options) {
    if (options != null && !options.toJson().isEmpty()) {
      throw new IllegalArgumentException(
          "PrepareOptions "
              + options.toJson().encode()
              + " are not supported by ShardedPool: each shard prepares its rewritten statement"
              + " with the driver's defaults");
    }
  }

  @Override
  public Query<RowSet<Row>> query(String sql) {
    return RoutedQuery.of(runner, poolSource, sql, false);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
    return RoutedQuery.of(runner, poolSource, sql, true);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
    checkOptions(options);
    return preparedQuery(sql);
  }

  @Override
  public Set<String> dataSourceNames() {
    return rules.dataSourceNames();
  }

  @Override
  public io.vertx.sqlclient.PoolOptions poolOptions(String dataSource) {
    io.vertx.sqlclient.PoolOptions options = poolOptions.get(dataSource);
    if (options == null) {
      throw new IllegalArgumentException(
          "unknown data source " + dataSource + " (known: " + poolOptions.keySet() + ")");
    }
    return new io.vertx.sqlclient.PoolOptions(options);
  }

  @Override
  public Pool pool(String dataSource) {
    Pool pool = pools.get(dataSource);
    if (pool == null) {
      throw new IllegalArgumentException(
          "unknown data source " + dataSource + " (known: " + pools.keySet() + ")");
    }
    return pool;
  }

  @Override
  public io.shardkit.router.ShardCircuitBreaker circuitBreaker(String dataSource) {
    return breakers.get(dataSource);
  }

  @Override
  public ShardingRules rules() {
    return rules;
  }

  @Override
  public SqlClient withConnections(ShardConnectionProvider provider) {
    return new RoutedClient(provider::clientFor);
  }

  @Override
  public Set<String> dataSourcesFor(String sql, Tuple params) {
    return new LinkedHashSet<>(runner.dataSourcesFor(sql, params));
  }

  /**
   * A stream is one statement of the pool for admission: it counts from its opening until it ends,
   * fails or is closed (or until its opening fails). With adaptive admission it is also one of the
   * outstanding statements of each pool it holds a connection of (a primary's, or for a plain read
   * a read replica's) for as long as it holds it: it is refused (typed, nothing opened) when one of
   * its primaries has a standing queue, or when every healthy replica of a data source it reads
   * from has one; its waits for connections are timed like a statement's.
   */
  @Override
  public Future<ShardedRowStream> stream(String sql, Tuple params, int fetchSize) {
    StatementAdmission admission = runner.admission();
    if (!admission.tryEnter(true)) {
      return admission.refused();
    }
    java.util.concurrent.atomic.AtomicBoolean counted =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.Queue<QueueDelayAdmission.Gate> taken =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    Runnable exit =
        () -> {
          if (counted.compareAndSet(true, false)) {
            admission.exit();
            for (QueueDelayAdmission.Gate gate; (gate = taken.poll()) != null; ) {
              queueDelay.released(gate);
            }
          }
        };
    java.util.function.BiFunction<String, Rewriter.Routed, Future<SqlConnection>> connect =
        (ds, routed) -> {
          ReadReplicas.Member replica =
              !StatementRunner.replicaRead(routed)
                  ? null
                  : queueDelay == null ? replicas.pick(ds) : queueDelay.pickReplica(ds, replicas);
          if (replica != null) {
            return replicaConnection(ds, replica, taken); // not the primary's queue
          }
          return primaryConnection(ds, taken);
        };
    Future<ShardedRowStream> opened;
    try {
      opened =
          MergingRowStream.open(
              vertx,
              runner,
              connect,
              routed -> {
                if (queueDelay != null) {
                  queueDelay.check(routed, replicas);
                }
              },
              sql,
              params,
              fetchSize,
              exit);
    } catch (RuntimeException | Error e) {
      exit.run();
      throw e;
    }
    return opened.onFailure(e -> exit.run());
  }

  @Override
  public int maxInFlight() {
    return runner.admission().limit();
  }

  /**
   * A connection of {@code ds}'s primary for a stream's units there; with adaptive admission timed
   * and counted on the primary until the stream lets it go ({@code taken}).
   */
  private Future<SqlConnection> primaryConnection(
      String ds, java.util.Queue<QueueDelayAdmission.Gate> taken) {
    if (queueDelay == null) {
      return pools.get(ds).getConnection();
    }
    QueueDelayAdmission.Gate gate = queueDelay.primary(ds);
    return queueDelay
        .take(gate, () -> pools.get(ds).getConnection())
        .onSuccess(c -> taken.add(gate));
  }

  /**
   * A connection of a healthy replica for a stream's units on a data source (a plain read), with
   * adaptive admission timed and counted on the replica until the stream lets it go ({@code
   * taken}); the primary's when the replica cannot be reached.
   */
  private Future<SqlConnection> replicaConnection(
      String ds, ReadReplicas.Member replica, java.util.Queue<QueueDelayAdmission.Gate> taken) {
    Future<SqlConnection> connection;
    if (queueDelay == null) {
      connection = replica.pool.getConnection();
    } else {
      QueueDelayAdmission.Gate gate = queueDelay.replica(replica);
      connection =
          queueDelay.take(gate, replica.pool::getConnection).onSuccess(c -> taken.add(gate));
    }
    return connection.recover(
        e -> {
          if (!StatementRunner.isConnectFailure(e)) {
            return Future.failedFuture(e);
          }
          replicas.unreachable(replica, e);
          return primaryConnection(ds, taken);
        });
  }

  @Override
  public Future<Void> cancelRunning(
      String dataSource, SqlConnection connection, Future<?> running) {
    try {
      return cancel.killRunning(server(dataSource), connection, running);
    } catch (IllegalArgumentException unknown) {
      return Future.failedFuture(unknown);
    }
  }

  private io.vertx.mysqlclient.MySQLConnectOptions server(String dataSource) {
    io.vertx.mysqlclient.MySQLConnectOptions server = servers.get(dataSource);
    if (server == null) {
      throw new IllegalArgumentException(
          "unknown data source " + dataSource + " (known: " + servers.keySet() + ")");
    }
    return server;
  }

  @Override
  public Future<Void> close() {
    closed = true;
    Future<Void> manager =
        transactionManager == null ? Future.succeededFuture() : transactionManager.close();
    metrics.close();
    breakers.close();
    List<Future<Void>> closes = new ArrayList<>();
    closes.add(manager.otherwiseEmpty());
    // the replicas first: their heartbeat row is deleted through the primaries
    Future<Void> replicasClosed = replicas.close();
    closes.add(replicasClosed);
    for (Pool pool : pools.values()) {
      closes.add(replicasClosed.eventually(pool::close));
    }
    closes.add(cancel.close());
    return Future.all(closes).mapEmpty();
  }

  @Override
  @SuppressWarnings("rawtypes")
  public Driver driver() {
    return ((SqlClientInternal) pools.values().iterator().next()).driver();
  }

  @Override
  public void group(Handler<SqlClient> block) {
    block.handle(this);
  }

  /** A routed client over a transaction's connections (also usable with SqlTemplate). */
  private final class RoutedClient implements SqlClientInternal {
    private final StatementRunner.ClientSource source;

    RoutedClient(StatementRunner.ClientSource source) {
      this.source = source;
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Driver driver() {
      return ShardedPoolImpl.this.driver();
    }

    @Override
    public void group(Handler<SqlClient> block) {
      block.handle(this);
    }

    @Override
    public Query<RowSet<Row>> query(String sql) {
      return RoutedQuery.of(runner, source, sql, false);
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
      return RoutedQuery.of(runner, source, sql, true);
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
      checkOptions(options);
      return preparedQuery(sql);
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }
  }
}
