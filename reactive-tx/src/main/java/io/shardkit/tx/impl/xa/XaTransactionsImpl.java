package io.shardkit.tx.impl.xa;

import io.shardkit.context.ConfigurationException;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.spi.ShardTransaction;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.spi.TransactionObserver;
import io.shardkit.tx.spi.TransactionObserver.Outcome;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** The XA protocol of {@code Transactions}: one per app instance and ShardedPool. */
public final class XaTransactionsImpl {

  private static final System.Logger LOG = System.getLogger(XaTransactionsImpl.class.getName());
  static final String MODE = "xa";

  /** Connections of the log data source kept for decision writes (see LogConnections). */
  static final int LOG_CONNECTIONS = 2;

  private final Vertx vertx;
  private final ShardedPool pool;
  private final TransactionsOptions options;
  private final CoordinatorLog log;
  private final List<TransactionObserver> observers;
  private final XaRecoveryImpl recovery;
  private final io.shardkit.tx.impl.trace.TxSpans spans;
  private final DbClock clock;
  private final PgSources pg;
  private final ParticipantDecisions decisions;
  private final boolean decideOnParticipant;
  private final io.shardkit.tx.impl.Admission admission;
  private final io.micrometer.core.instrument.Counter refused;
  private volatile StopPoint stopPoint = StopPoint.NONE;

  /** Transactions begun here and not ended, by global id (to enlist PostgreSQL sources). */
  private final java.util.Map<String, XaShardTransaction> active =
      new java.util.concurrent.ConcurrentHashMap<>();

  private XaTransactionsImpl(Vertx vertx, ShardedPool pool, TransactionsOptions options) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.pool = Objects.requireNonNull(pool, "pool");
    this.options = Objects.requireNonNull(options, "options");
    if (!pool.dataSourceNames().contains(options.logDataSource())) {
      throw new ConfigurationException(
          "logDataSource",
          "'"
              + options.logDataSource()
              + "' is not a data source of the pool (known: "
              + pool.dataSourceNames()
              + ")");
    }
    checkDataSourceNames(pool);
    int logPoolSize = pool.poolOptions(options.logDataSource()).getMaxSize();
    if (logPoolSize <= LOG_CONNECTIONS) {
      // the kept decision connections would leave recovery no connection to read decisions with
      throw new ConfigurationException(
          "logDataSource",
          "the pool of '"
              + options.logDataSource()
              + "' has maxSize "
              + logPoolSize
              + ": the XA coordinator keeps "
              + LOG_CONNECTIONS
              + " of its connections for decisions, and recovery and transactions need at least"
              + " one more (maxSize "
              + (LOG_CONNECTIONS + 1)
              + " or more)");
    }
    this.log =
        new CoordinatorLog(
            pool.pool(options.logDataSource()),
            options.logTable(),
            options.tablePrefix() + "_xa_lease",
            rootContext(vertx),
            LOG_CONNECTIONS);
    List<TransactionObserver> all = new ArrayList<>();
    all.add(new MetricsObserver(options.meterRegistry()));
    all.addAll(options.observers());
    this.observers = List.copyOf(all);
    this.clock = new DbClock(log::keptConnection);
    this.recovery = new XaRecoveryImpl(this);
    this.spans = new io.shardkit.tx.impl.trace.TxSpans(options.openTelemetry());
    this.pg = new PgSources(vertx, options, pool.dataSourceNames(), spans);
    this.decisions = new ParticipantDecisions(options.xaDecisionTable());
    this.admission =
        new io.shardkit.tx.impl.Admission(
            options.maxInFlight(),
            options.queueDelayTarget(),
            allSources(pool, options),
            options.meterRegistry(),
            MODE,
            "XA transactions begun and not yet answered",
            "XA",
            "TransactionsOptions");
    this.refused =
        io.micrometer.core.instrument.Counter.builder("shardkit.tx.transactions")
            .description("Transactions by outcome")
            .tags("mode", MODE, "outcome", "refused")
            .register(options.meterRegistry());
    this.decideOnParticipant = options.decisionOnParticipant() && namesFit(allDataSources());
    if (options.decisionOnParticipant() && !decideOnParticipant) {
      LOG.log(
          System.Logger.Level.INFO,
          "XA decisions go to the coordinator log on "
              + options.logDataSource()
              + ": a data source name contains '@' or is too long to be named in another"
              + " branch's xid (at most 23 characters)");
    }
  }

  /** Whether every branch's xid can name any MySQL data source as the one keeping the decision. */
  private boolean namesFit(List<String> all) {
    for (String decider : pool.dataSourceNames()) {
      for (String ds : all) {
        if (!Xid.canDecideOn(ds, decider)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * The data source that keeps the decision of a transaction whose first branch is on {@code
   * first}: {@code first} itself when it is a MySQL data source and decisions on participants are
   * on, else null (the coordinator log decides).
   */
  String decider(String first) {
    return decideOnParticipant && !pg.contains(first) ? first : null;
  }

  /** Whether MySQL branches pipeline their start with their first statement. */
  boolean pipelineStart() {
    return options.pipelineBranchStart();
  }

  ParticipantDecisions decisions() {
    return decisions;
  }

  /** The MySQL data sources that may keep decisions ({@code <prefix>_xa_decision}). */
  List<String> decidingDataSources() {
    return decideOnParticipant ? List.copyOf(pool.dataSourceNames()) : List.of();
  }

  private static void checkDataSourceNames(ShardedPool pool) {
    for (String ds : pool.dataSourceNames()) {
      if (ds.length() > Xid.maxDataSourceLength()) {
        throw new ConfigurationException(
            "dataSources." + ds,
            "name too long for an XA branch qualifier (at most "
                + Xid.maxDataSourceLength()
                + " characters)");
      }
    }
  }

  /**
   * A context that belongs to no scope: the caller's root context (a duplicated context, such as a
   * scope's, is unwrapped), or a new event-loop context outside Vert.x.
   */
  private static io.vertx.core.Context rootContext(Vertx vertx) {
    io.vertx.core.Context context = vertx.getOrCreateContext();
    return context instanceof io.vertx.core.internal.ContextInternal internal
        ? internal.unwrap()
        : context;
  }

  public static XaTransactionsImpl create(
      Vertx vertx, ShardedPool pool, TransactionsOptions options) {
    return new XaTransactionsImpl(vertx, pool, options);
  }

  public Future<ShardTransaction> begin(ShardedPool pool, Duration timeout) {
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(timeout, "timeout");
    try {
      validate(pool, timeout);
    } catch (RuntimeException invalid) {
      return Future.failedFuture(invalid);
    }
    // admission before anything else (no scope, connection or log write): refused at once
    if (!tryAdmit()) {
      return Future.failedFuture(overloaded());
    }
    return admitted(pool, timeout);
  }

  /**
   * Admits one transaction before {@code ShardedPool.withTransaction} sets it up (scope, timer,
   * connection): a refusal then costs none of that. Throws {@link
   * io.shardkit.tx.TransactionOverloadedException} beyond {@link
   * TransactionsOptions#maxInFlight()}.
   */
  public io.shardkit.router.spi.ShardTransactionManager.Admitted admit() {
    if (!tryAdmit()) {
      throw overloaded();
    }
    return new Reserved();
  }

  /** {@link #begin(ShardedPool, Duration)} for a transaction {@link #admit()} admitted. */
  public Future<ShardTransaction> begin(
      ShardedPool pool,
      Duration timeout,
      io.shardkit.router.spi.ShardTransactionManager.Admitted admitted) {
    if (!(admitted instanceof Reserved reserved) || !reserved.take(this)) {
      admitted.release();
      return begin(pool, timeout);
    }
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(timeout, "timeout");
    try {
      validate(pool, timeout);
    } catch (RuntimeException invalid) {
      admission.release();
      return Future.failedFuture(invalid);
    }
    return admitted(pool, timeout);
  }

  /** The timeout (positive, at most the maximum) and the pool's data source names. */
  private void validate(ShardedPool pool, Duration timeout) {
    TransactionOptions.ofTimeout(timeout);
    checkDataSourceNames(pool);
  }

  /** Takes an admission; false (counted as refused) beyond the limit. */
  private boolean tryAdmit() {
    if (admission.tryAcquire()) {
      return true;
    }
    refused.increment();
    return false;
  }

  /**
   * The pool's data sources and the PostgreSQL sources, where branches take connections, with each
   * one's most connections.
   */
  private static java.util.Map<String, Integer> allSources(
      ShardedPool pool, TransactionsOptions options) {
    java.util.Map<String, Integer> all = io.shardkit.tx.impl.Admission.maxSizes(pool);
    options
        .postgresSources()
        .forEach((name, source) -> all.put(name, source.poolOptions().getMaxSize()));
    return all;
  }

  private io.shardkit.tx.TransactionOverloadedException overloaded() {
    return admission.refusal();
  }

  /** An admission {@link #admit()} took: given back once, by its release or its transaction. */
  private final class Reserved implements io.shardkit.router.spi.ShardTransactionManager.Admitted {
    private final java.util.concurrent.atomic.AtomicBoolean held =
        new java.util.concurrent.atomic.AtomicBoolean(true);

    /** Hands the admission over to the transaction {@code owner} begins; false if released. */
    boolean take(XaTransactionsImpl owner) {
      return owner == XaTransactionsImpl.this && held.compareAndSet(true, false);
    }

    @Override
    public void release() {
      if (held.compareAndSet(true, false)) {
        admission.release();
      }
    }
  }

  /** Begins a transaction holding an admission; the admission is given back at its end. */
  private Future<ShardTransaction> admitted(ShardedPool pool, Duration timeout) {
    try {
      return XaShardTransaction.begin(this, pool, timeout); // gives the admission back at its end
    } catch (RuntimeException e) {
      admission.release();
      return Future.failedFuture(e);
    }
  }

  /** Admission control of new XA transactions ({@link TransactionsOptions#maxInFlight()}). */
  io.shardkit.tx.impl.Admission admission() {
    return admission;
  }

  /** A transaction run by {@link #withResult}: its options, and whether it is left pending. */
  private static final class Watched {
    final boolean async;
    volatile boolean pending;

    Watched(boolean async) {
      this.async = async;
    }
  }

  /** Global ids of transactions run by {@link #withResult}. */
  private final java.util.Map<String, Watched> watched =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Second phases running after their callers were answered (asynchronous second phase). */
  private final java.util.Set<Future<Void>> background =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * {@code pool.withTransaction(options.timeout(), fn)} on this manager's pool, answering the value
   * with the transaction's global id and whether a branch was left to recovery or to the background
   * (committed, pending); {@link io.shardkit.tx.TransactionOptions#asyncSecondPhase()} applies.
   */
  public <T> Future<io.shardkit.tx.TransactionResult<T>> withResult(
      io.shardkit.tx.TransactionOptions options,
      java.util.function.Function<io.vertx.sqlclient.SqlConnection, Future<T>> fn) {
    Objects.requireNonNull(fn, "fn");
    String[] gid = new String[1];
    return pool.<T>withTransaction(
            options.timeout(),
            conn -> {
              gid[0] = io.shardkit.context.TxScope.current().orElseThrow().globalId();
              watched.put(gid[0], new Watched(options.asyncSecondPhase()));
              return fn.apply(conn);
            })
        .transform(
            ar -> {
              Watched w = gid[0] == null ? null : watched.remove(gid[0]);
              if (ar.failed()) {
                return Future.failedFuture(ar.cause());
              }
              return Future.succeededFuture(
                  new io.shardkit.tx.TransactionResult<>(
                      ar.result(), gid[0], w != null && w.pending));
            });
  }

  /** A transaction committed with a branch left to recovery (for {@link #withResult}). */
  void committedPending(String gid) {
    Watched w = watched.get(gid);
    if (w != null) {
      w.pending = true;
    }
  }

  /** Whether {@code gid}'s caller asked for the asynchronous second phase. */
  boolean asyncSecondPhase(String gid) {
    Watched w = watched.get(gid);
    return w != null && w.async;
  }

  /** Owns a second phase that runs on after its caller was answered, until it ends. */
  void runInBackground(Future<Void> secondPhase) {
    background.add(secondPhase);
    secondPhase.onComplete(ar -> background.remove(secondPhase));
  }

  io.shardkit.tx.impl.trace.TxSpans spans() {
    return spans;
  }

  public Future<Void> installSchema() {
    Future<Void> chain = log.install();
    for (String ds : decidingDataSources()) {
      chain =
          chain.compose(v -> pool.pool(ds).query(decisions.schema()).execute().<Void>mapEmpty());
    }
    return chain;
  }

  /**
   * Opens the connections kept on the log data source for decisions (see LogConnections), and
   * checks that every PostgreSQL source allows prepared transactions.
   */
  public Future<Void> warmUp() {
    Future<Void> kept =
        log.ready()
            .compose(v -> clock.read().<Void>mapEmpty())
            .recover(
                e ->
                    Future.failedFuture(
                        new io.shardkit.router.ShardUnavailableException(
                            options.logDataSource(), e)));
    return Future.all(kept, pg.checkAll()).mapEmpty();
  }

  // ---------------------------------------------------------------- PostgreSQL sources

  /**
   * The connection of PostgreSQL source {@code name} in the current XA transaction (the one whose
   * scope the caller runs in), enlisted on first use: {@code BEGIN} on a connection pinned to the
   * transaction; the commit prepares it with the other branches.
   */
  public Future<io.vertx.sqlclient.SqlClient> postgres(String name) {
    if (!pg.contains(name)) {
      return Future.failedFuture(
          new ConfigurationException(
              "postgres." + name,
              "unknown PostgreSQL data source '"
                  + name
                  + "' (configured: "
                  + pg.names()
                  + "; add it with TransactionsOptions.Builder.postgres)"));
    }
    XaShardTransaction handle =
        io.shardkit.context.TxScope.current().map(t -> active.get(t.globalId())).orElse(null);
    if (handle == null) {
      return Future.failedFuture(
          new io.shardkit.context.ShardkitException(
              "postgres('"
                  + name
                  + "') called outside a global transaction of this manager: call it inside"
                  + " pool.withTransaction(...)"));
    }
    // answered on the caller's context (the work's, with its scope), as every statement on it
    io.vertx.core.Context here = io.shardkit.tx.impl.OnContext.callerOrNew(vertx);
    return io.shardkit.tx.impl.OnContext.on(here, handle.clientFor(name));
  }

  void begun(String gid, XaShardTransaction handle) {
    active.put(gid, handle);
  }

  void ended(String gid) {
    if (gid != null) {
      active.remove(gid);
    }
  }

  boolean isPostgres(String dataSource) {
    return pg.contains(dataSource);
  }

  /** The pool's data sources, then the PostgreSQL sources: what recovery scans. */
  List<String> allDataSources() {
    List<String> all = new ArrayList<>(pool.dataSourceNames());
    all.addAll(pg.names());
    return all;
  }

  io.vertx.sqlclient.Pool poolOf(String dataSource) {
    PgSources.Source source = pg.get(dataSource);
    return source != null ? source.pool : pool.pool(dataSource);
  }

  io.shardkit.router.ShardCircuitBreaker breakerOf(String dataSource) {
    PgSources.Source source = pg.get(dataSource);
    return source != null ? source.breaker : pool.circuitBreaker(dataSource);
  }

  /** A PostgreSQL branch's source must allow prepared transactions (checked once). */
  Future<Void> checkPostgres(Branch b) {
    return b.postgres ? pg.check(b.dataSource) : Future.succeededFuture();
  }

  String pgIsolation(Branch b) {
    return b.postgres ? pg.get(b.dataSource).options.isolationLevel() : null;
  }

  BranchClient.Hook statementHook(Branch b, String gid) {
    if (!b.postgres) {
      return null;
    }
    return new BranchClient.Hook() {
      @Override
      public <R> Future<R> run(String sql, java.util.function.Supplier<Future<R>> statement) {
        return pg.statement(b.dataSource, gid, sql, statement);
      }
    };
  }

  /** Kills what runs on a MySQL branch's connection ({@link ShardedPool#cancelRunning}). */
  Future<Void> cancelRunning(
      String dataSource, io.vertx.sqlclient.SqlConnection conn, Future<?> running) {
    return pool.cancelRunning(dataSource, conn, running);
  }

  /** A branch's start: on a PostgreSQL source counted by its breaker ({@link PgSources#start}). */
  <R> Future<R> start(Branch b, java.util.function.Supplier<Future<R>> run) {
    return b.postgres ? pg.start(b.dataSource, run) : run.get();
  }

  /**
   * A branch's connection on its way: on a PostgreSQL source, told to its breaker as unanswered if
   * still not there at the transaction's deadline (a frozen server never completes a new
   * connection's start-up, and the pool's wait says nothing of it; the breaker's liveness check
   * tells a frozen server from a pool that is merely busy).
   */
  Future<io.vertx.sqlclient.SqlConnection> connecting(
      Branch b, Future<io.vertx.sqlclient.SqlConnection> connect) {
    if (b.postgres) {
      pg.countAtDeadline(b.dataSource, connect, b.connectCounted);
    }
    return connect;
  }

  void enlistFailed(Branch b, Throwable failure) {
    if (b.postgres && b.connectCounted.compareAndSet(false, true)) {
      Throwable counted = PgSources.unanswered(failure);
      if (counted != null) {
        pg.get(b.dataSource).breaker.release(counted);
      }
    }
  }

  public XaRecovery recovery() {
    return recovery;
  }

  XaRecoveryImpl recoveryImpl() {
    return recovery;
  }

  /** The decision of {@code globalId}: in the coordinator log, else on a deciding participant. */
  public Future<Optional<Decision>> decision(String globalId) {
    Future<Optional<Decision>> found =
        log.read(List.of(globalId)).map(rows -> Optional.ofNullable(rows.get(globalId)));
    for (String ds : decidingDataSources()) {
      found =
          found.compose(
              d ->
                  d.isPresent()
                      ? Future.succeededFuture(d)
                      : decisions
                          .read(pool.pool(ds), List.of(globalId))
                          .map(rows -> Optional.ofNullable(rows.get(globalId))));
    }
    return found;
  }

  /** Waits for second phases still running in the background, then closes the rest. */
  public Future<Void> close() {
    Future<Void> drained =
        Future.join(new ArrayList<>(background)).<Void>mapEmpty().otherwiseEmpty();
    return drained.eventually(recovery::stop).eventually(log::close).eventually(pg::close);
  }

  // ---------------------------------------------------------------- for the coordinator

  Vertx vertx() {
    return vertx;
  }

  ShardedPool pool() {
    return pool;
  }

  TransactionsOptions options() {
    return options;
  }

  CoordinatorLog log() {
    return log;
  }

  /** The log server's clock: XA deadlines are stamped and judged on it. */
  DbClock clock() {
    return clock;
  }

  /** Test hook: abandon transactions at this step, as a crashed coordinator would. */
  public void stopAt(StopPoint point) {
    this.stopPoint = point;
  }

  private volatile java.util.function.Function<String, Future<Void>> beforeCommit;
  private volatile java.util.function.Function<String, Future<Void>> beforeDecision;

  /**
   * Test hook: runs (and is waited for) once every branch is prepared, before the COMMIT decision
   * is written (a live coordinator between its phases); null removes it.
   */
  public void beforeDecision(java.util.function.Function<String, Future<Void>> hook) {
    this.beforeDecision = hook;
  }

  Future<Void> beforeDecision(String gid) {
    java.util.function.Function<String, Future<Void>> hook = beforeDecision;
    return hook == null ? Future.succeededFuture() : hook.apply(gid);
  }

  /**
   * Test hook: runs (and is waited for) after the COMMIT decision is durable, before the branches'
   * {@code XA COMMIT}; null removes it.
   */
  public void beforeCommit(java.util.function.Function<String, Future<Void>> hook) {
    this.beforeCommit = hook;
  }

  Future<Void> beforeCommit(String gid) {
    java.util.function.Function<String, Future<Void>> hook = beforeCommit;
    return hook == null ? Future.succeededFuture() : hook.apply(gid);
  }

  boolean stopAtPoint(StopPoint point) {
    return stopPoint == point;
  }

  void phase(String gid, String phase, long startNanos, boolean ok) {
    spans.phase(MODE, gid, phase, startNanos, ok ? "ok" : "error", ok);
    Duration took = Duration.ofNanos(System.nanoTime() - startNanos);
    for (TransactionObserver o : observers) {
      try {
        o.phaseEnded(MODE, gid, phase, took, ok);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "observer failed", e);
      }
    }
  }

  void outcome(String gid, Outcome outcome, int branches, long startNanos) {
    for (TransactionObserver o : observers) {
      try {
        o.transactionEnded(MODE, gid, outcome, branches);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "observer failed", e);
      }
    }
  }

  void recovered(String dataSource, String action, boolean decidedByRecovery) {
    for (TransactionObserver o : observers) {
      try {
        o.recovered(MODE, dataSource, action, decidedByRecovery);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "observer failed", e);
      }
    }
  }

  void recoveryPass(int inDoubt, int unreachable) {
    for (TransactionObserver o : observers) {
      try {
        o.recoveryPassEnded(MODE, inDoubt, unreachable);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "observer failed", e);
      }
    }
  }
}
