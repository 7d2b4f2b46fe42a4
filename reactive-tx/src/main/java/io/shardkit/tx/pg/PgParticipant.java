package io.shardkit.tx.pg;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.router.CircuitBreakerOptions;
import io.shardkit.router.ShardCircuitBreaker;
import io.shardkit.router.ShardCircuitOpenException;
import io.shardkit.tx.PostgresSourceOptions;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.TccTryRefusedException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.impl.SourceBreaker;
import io.shardkit.tx.impl.SourceMeters;
import io.shardkit.tx.impl.xa.PgSources;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * PostgreSQL as a TCC or Saga participant: runs the phases of the {@link PgStep}s registered here,
 * each in one local PostgreSQL transaction whose first statement writes the branch's row in a fence
 * table on that source, then the step's statements, then {@code COMMIT}: the phase's effect and its
 * fence row commit together or not at all. It plugs into the coordinator's participant seam like a
 * remote service: {@link #installOn} registers every step as a saga step reference and this
 * participant for it, so {@code saga.step(step.sagaStep(), arg)} and {@code
 * tcc.enlist(step.tccAction(), arg)} reach it, and recovery (any instance that installed the same
 * steps) confirms or compensates with it.
 *
 * <pre>{@code
 * PgParticipant ledger = PgParticipant.builder(vertx)
 *     .source("ledger", new PostgresSourceOptions(new PgConnectOptions()
 *         .setHost("pg1").setDatabase("ledger").setUser("app").setPassword("…")))
 *     .build()
 *     .register(credit);
 * ledger.installSchema()                 // the fence table on every source
 *     .onSuccess(v -> ledger.installOn(transactions));
 * }</pre>
 *
 * <p>The guarantees are the MySQL fence's ({@code TccParticipants}): a repeated phase returns
 * {@code DUPLICATE} and does nothing; a cancel before any try is an empty rollback that records the
 * branch as cancelled, so a late try is refused ({@link TccTryRefusedException}) and does nothing;
 * confirm and cancel may be retried by anyone. The fence rules and why they hold under concurrency
 * are in the module README ("PostgreSQL as a TCC/Saga participant").
 *
 * <p>Each phase runs under READ COMMITTED (whatever the server's default) with {@code SET LOCAL
 * statement_timeout} set to the time the phase has left, so a phase that gave up never leaves a
 * statement running on the server. A try takes what is left of its transaction, a confirm or cancel
 * attempt at most {@link Builder#phaseTimeout}. A failed or refused phase is rolled back with its
 * fence row ({@link PgStepFailedException}, naming the transaction, the step, the phase and the
 * source).
 *
 * <p>Observability, like the PostgreSQL XA sources: one CLIENT span per phase ({@code
 * db.system=postgresql}, {@code shardkit.shard} = the source) under the transaction's span; the
 * router's timer {@code shardkit.router.shard.statements} (tags {@code shard}, {@code kind} = the
 * phase, {@code outcome}); the counter {@code shardkit.pg.phases} (tags {@code shard}, {@code
 * kind}, {@code outcome}: applied, duplicate, empty_rollback, refused, failed); and a circuit
 * breaker per source ({@link #circuitBreaker}; the one Redis and the XA PostgreSQL sources use)
 * that opens after consecutive failures, or a failure rate, without an answer from the server
 * (unreachable, reset) and then refuses every phase at once until it probes again.
 */
public final class PgParticipant implements TccParticipant {

  static final AttributeKey<String> DB_SYSTEM = AttributeKey.stringKey("db.system");
  static final AttributeKey<String> DB_SYSTEM_NAME = AttributeKey.stringKey("db.system.name");
  static final AttributeKey<String> DB_NAMESPACE = AttributeKey.stringKey("db.namespace");
  static final AttributeKey<String> DB_OPERATION = AttributeKey.stringKey("db.operation.name");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> SHARD = AttributeKey.stringKey("shardkit.shard");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private static final System.Logger LOG = System.getLogger(PgParticipant.class.getName());
  private static final int CLEANUP_BATCH = 500;
  private static final int CLEANUP_BATCHES_PER_PASS = 100;
  private static final long FIRST_CLEANUP_MAX_DELAY_MS = 60_000;

  /** One named PostgreSQL source. */
  static final class Source {
    final String name;
    final Pool pool;
    final boolean owned;
    final PgConnectOptions connect; // null for a pool given by the application
    final SourceBreaker breaker;

    Source(String name, Pool pool, boolean owned, PgConnectOptions connect, SourceBreaker breaker) {
      this.name = name;
      this.pool = pool;
      this.owned = owned;
      this.connect = connect;
      this.breaker = breaker;
    }
  }

  private final Vertx vertx;
  private final Map<String, Source> sources;
  private final PgFence fence;
  private final Duration phaseTimeout;
  private final Duration fenceRetention;
  private final MeterRegistry registry;
  private final Tracer tracer;
  private final Map<String, PgStep<?>> steps = new ConcurrentHashMap<>();
  private final SourceMeters meters;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Duration cleanupInterval;
  private long cleanupTimer = -1;
  private boolean closed;

  private PgParticipant(Builder b) {
    this.vertx = b.vertx;
    this.fence = new PgFence(b.fenceTable);
    this.phaseTimeout = b.phaseTimeout;
    this.fenceRetention = b.fenceRetention;
    this.registry = b.registry;
    this.meters = new SourceMeters(registry);
    this.tracer = b.openTelemetry.getTracer("io.shardkit.tx.pg");
    Map<String, Source> all = new LinkedHashMap<>();
    b.pools.forEach(
        (name, pool) ->
            all.put(
                name,
                new Source(name, pool, false, null, breaker(name, b.circuitBreaker, null, pool))));
    b.options.forEach(
        (name, options) -> {
          Pool pool =
              PgBuilder.pool()
                  .with(options.poolOptions())
                  .connectingTo(options.connectOptions())
                  .using(vertx)
                  .build();
          all.put(
              name,
              new Source(
                  name,
                  pool,
                  true,
                  options.connectOptions(),
                  breaker(name, options.circuitBreaker(), options.connectOptions(), pool)));
        });
    this.sources = all;
    this.cleanupInterval = b.cleanupInterval;
    if (!cleanupInterval.isZero()) {
      scheduleCleanup(Math.min(cleanupInterval.toMillis(), FIRST_CLEANUP_MAX_DELAY_MS));
    }
  }

  /**
   * The clean-up timer: a Vert.x timer, so each pass starts on an event loop and only sends
   * statements (nothing waits); the next pass is scheduled when this one has finished, so passes
   * never overlap.
   */
  private synchronized void scheduleCleanup(long delayMillis) {
    if (closed) {
      return;
    }
    cleanupTimer = vertx.setTimer(Math.max(1, delayMillis), id -> cleanupPass());
  }

  /**
   * One timed pass: batches of {@link #cleanFence()} until one removes nothing (at most 100 per
   * pass), then the next pass after {@code cleanupInterval}.
   */
  private void cleanupPass() {
    synchronized (this) {
      if (closed) {
        return;
      }
      cleanupTimer = -1;
    }
    cleanupBatches(CLEANUP_BATCHES_PER_PASS)
        .onComplete(ignored -> scheduleCleanup(cleanupInterval.toMillis()));
  }

  private Future<Void> cleanupBatches(int left) {
    synchronized (this) {
      if (closed || left == 0) {
        return Future.succeededFuture();
      }
    }
    return cleanFence()
        .compose(
            removed -> removed > 0 ? cleanupBatches(left - 1) : Future.<Void>succeededFuture());
  }

  /** Starts a participant running its phases on {@code vertx}. */
  public static Builder builder(Vertx vertx) {
    return new Builder(Objects.requireNonNull(vertx, "vertx"));
  }

  /**
   * Registers a step.
   *
   * @throws PgStepConfigurationException when its fixed source is not one of the sources, or the
   *     name is taken
   */
  public <A> PgParticipant register(PgStep<A> step) {
    if (step.fixedSource() != null) {
      source(step.name(), step.fixedSource()); // unknown → typed error now
    }
    if (steps.putIfAbsent(step.name(), step) != null) {
      throw new PgStepConfigurationException(
          step.name(), step.fixedSource(), "pg step " + step.name() + " is already registered");
    }
    return this;
  }

  /**
   * Registers every step here with {@code transactions}: as a saga step reference ({@link
   * PgStep#sagaStep()}) and with this participant serving its name (also for TCC).
   */
  public PgParticipant installOn(Transactions transactions) {
    for (PgStep<?> step : steps.values()) {
      transactions.register(step.sagaStep());
      transactions.registerParticipant(step.name(), this);
    }
    return this;
  }

  /** The names of the registered steps. */
  public Set<String> steps() {
    return Set.copyOf(steps.keySet());
  }

  /** The names of the PostgreSQL sources. */
  public Set<String> sources() {
    return Set.copyOf(sources.keySet());
  }

  /** The pool of a source (e.g. to read what the steps wrote). */
  public Pool pool(String source) {
    return source(null, source).pool;
  }

  /** The fence table's name. */
  public String fenceTable() {
    return fence.table();
  }

  /** The circuit breaker of a source. */
  public ShardCircuitBreaker circuitBreaker(String source) {
    return source(null, source).breaker;
  }

  /** Creates the fence table (and its clean-up index) on every source if it does not exist. */
  public Future<Void> installSchema() {
    List<Future<?>> all = new ArrayList<>();
    for (Source s : sources.values()) {
      all.add(s.pool.query(fence.ddl()).execute());
    }
    return Future.all(all).mapEmpty();
  }

  /**
   * Deletes fence rows older than the retention on every reachable source (one batch of up to 500
   * global ids per source and call; an unreachable source is skipped). The participant's own timer
   * calls it every {@link Builder#cleanupInterval}; call it yourself only to clean at other times.
   *
   * @return the number of rows deleted
   */
  public Future<Integer> cleanFence() {
    List<Future<Integer>> all = new ArrayList<>();
    for (Source s : sources.values()) {
      all.add(
          s.pool
              .preparedQuery(fence.cleanup(CLEANUP_BATCH))
              .execute(Tuple.of((double) fenceRetention.toMillis() / 1000.0))
              .map(
                  rows -> {
                    if (rows.rowCount() > 0) {
                      removedCounter(s.name).increment(rows.rowCount());
                    }
                    return rows.rowCount();
                  })
              .recover(
                  failure -> {
                    LOG.log(
                        System.Logger.Level.DEBUG,
                        "pg fence clean-up on " + s.name + " skipped: " + failure.getMessage());
                    return Future.succeededFuture(0);
                  }));
    }
    return Future.all(all)
        .map(
            done -> {
              int total = 0;
              for (Future<Integer> f : all) {
                total += f.result();
              }
              return total;
            });
  }

  /**
   * Stops the fence clean-up timer and closes the pools this participant created (not the ones it
   * was given).
   */
  public Future<Void> close() {
    synchronized (this) {
      closed = true;
      if (cleanupTimer >= 0) {
        vertx.cancelTimer(cleanupTimer);
        cleanupTimer = -1;
      }
    }
    List<Future<Void>> all = new ArrayList<>();
    for (Source s : sources.values()) {
      if (s.owned) {
        all.add(s.pool.close());
      }
    }
    return Future.join(all).<Void>mapEmpty().otherwiseEmpty();
  }

  @Override
  public Future<TccPhaseOutcome> tryBranch(TccBranch branch) {
    return run(PgFence.TRY, branch);
  }

  @Override
  public Future<TccPhaseOutcome> confirm(TccBranch branch) {
    return run(PgFence.CONFIRM, branch);
  }

  @Override
  public Future<TccPhaseOutcome> cancel(TccBranch branch) {
    return run(PgFence.CANCEL, branch);
  }

  Source source(String step, String name) {
    Source source = name == null ? null : sources.get(name);
    if (source == null) {
      throw new PgStepConfigurationException(
          step,
          name,
          (step == null ? "" : "pg step " + step + ": ")
              + "unknown PostgreSQL source '"
              + name
              + "' (known: "
              + new ArrayList<>(sources.keySet())
              + ")");
    }
    return source;
  }

  private Future<TccPhaseOutcome> run(String phase, TccBranch branch) {
    PgStep<?> step = steps.get(branch.action());
    if (step == null) {
      return Future.failedFuture(
          new PgStepConfigurationException(
              branch.action(),
              null,
              "transaction "
                  + branch.globalId()
                  + ": no pg step '"
                  + branch.action()
                  + "' is registered with this participant (registered: "
                  + steps.keySet()
                  + ")"));
    }
    try {
      return run(phase, branch, step);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private <A> Future<TccPhaseOutcome> run(String phase, TccBranch branch, PgStep<A> step) {
    A argument = step.codec().decode(branch.args());
    Source source = source(step.name(), step.sourceFor(argument));
    try {
      source.breaker.acquire(); // refused while open; counts a half-open probe
    } catch (ShardCircuitOpenException open) {
      count(source.name, phase, "failed");
      return Future.failedFuture(open);
    }
    // A try takes what is left of its transaction; a confirm/cancel attempt at most phaseTimeout.
    boolean inScope = TxScope.current().isPresent();
    ScopeOptions scope =
        ScopeOptions.builder()
            .globalId(branch.globalId())
            .branchId(branch.branchId())
            .timeout(PgFence.TRY.equals(phase) && inScope ? ScopeOptions.MAX_TIMEOUT : phaseTimeout)
            .build();
    long start = System.nanoTime();
    Span span = span(source, step.name() + " " + phase, phase, branch);
    PgStep.Phase<A> body = step.phase(phase);
    AtomicBoolean stepFailed =
        new AtomicBoolean(); // the step's own failure: not the server's health
    return TxScope.run(
            vertx,
            scope,
            () ->
                inTransaction(
                    source,
                    conn ->
                        fence
                            .enter(phase, conn, branch, source.name)
                            .compose(
                                decided -> {
                                  if (decided != PgFence.Step.RUN) {
                                    return Future.succeededFuture(outcome(decided));
                                  }
                                  Future<Void> ran;
                                  try {
                                    ran = body.apply(conn, argument);
                                  } catch (RuntimeException e) {
                                    ran = Future.failedFuture(e);
                                  }
                                  if (ran == null) {
                                    ran =
                                        Future.failedFuture(
                                            new NullPointerException(
                                                "the " + phase + " function returned null"));
                                  }
                                  return ran.onFailure(f -> stepFailed.set(true))
                                      .map(TccPhaseOutcome.APPLIED);
                                })))
        .transform(
            ar -> {
              String outcome;
              Future<TccPhaseOutcome> result;
              if (ar.succeeded()) {
                outcome = ar.result().name().toLowerCase(Locale.ROOT);
                result = Future.succeededFuture(ar.result());
              } else if (ar.cause() instanceof TccTryRefusedException) {
                outcome = "refused";
                result = Future.failedFuture(ar.cause());
              } else {
                outcome = "failed";
                result =
                    Future.failedFuture(
                        ar.cause() instanceof ShardCircuitOpenException
                                || ar.cause() instanceof PgStepFailedException
                            ? ar.cause()
                            : new PgStepFailedException(
                                branch.globalId(), step.name(), phase, source.name, ar.cause()));
              }
              health(source, stepFailed.get(), ar.failed() ? ar.cause() : null);
              count(source.name, phase, outcome);
              meters
                  .statements(source.name, phase, ar.succeeded() ? "success" : "failure")
                  .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
              if (span.isRecording()) {
                if (ar.failed()) {
                  span.recordException(ar.cause());
                  span.setAttribute(ERROR_TYPE, ar.cause().getClass().getName());
                  span.setStatus(StatusCode.ERROR);
                }
                span.end();
              }
              return result;
            });
  }

  /**
   * One local transaction on a connection of the source, pinned to the current scope ({@code
   * LocalTx}, as the MySQL fence's phases): at the deadline the connection is given back, which
   * rolls the transaction back, and the handle the step holds refuses any further statement (so a
   * late statement cannot commit on its own, outside the fence's transaction). The transaction is
   * READ COMMITTED and its statements end at the deadline ({@code statement_timeout}). The body
   * ends with {@code SELECT 1}: in a transaction PostgreSQL has aborted (a statement failed and the
   * step carried on) it fails, instead of letting {@code COMMIT} succeed as a rollback.
   */
  private <T> Future<T> inTransaction(Source source, Function<SqlConnection, Future<T>> body) {
    long ms =
        TxScope.current()
            .map(tx -> tx.deadline().remainingNanos() / 1_000_000L)
            .orElse(phaseTimeout.toMillis());
    return io.shardkit.tx.impl.tcc.LocalTx.run(
        source.pool,
        // a statement still running at the deadline (one started late in the phase runs up to its
        // statement_timeout past it) is cancelled; the connection is then closed, never pooled
        (conn, running) -> io.shardkit.tx.impl.xa.PgSources.cancelRunning(vertx, conn),
        conn ->
            conn.query(
                    "SET TRANSACTION ISOLATION LEVEL READ COMMITTED;"
                        + " SET LOCAL statement_timeout = "
                        + Math.max(1, ms))
                .execute()
                .compose(v -> body.apply(conn))
                .compose(value -> conn.query("SELECT 1").execute().map(value)));
  }

  /**
   * What a phase says about its server, for the breaker: success, or a failure without an answer
   * (unreachable, reset, its own deadline passed). Not: the step's own failure, an answer of the
   * server (a PostgreSQL error, the fence refusing), nor the end of the scope it ran in (its
   * transaction ended: that says nothing about the server).
   */
  private static void health(Source source, boolean stepFailed, Throwable failure) {
    boolean serverFailed =
        failure != null
            && !stepFailed
            && (failure instanceof io.shardkit.context.ShardkitTimeoutException
                || !(failure instanceof ShardkitException))
            && PgSources.unanswered(failure) != null;
    // every acquire is released once: an answer (or the step's own failure) counts as success
    source.breaker.release(serverFailed ? failure : null);
  }

  private static TccPhaseOutcome outcome(PgFence.Step step) {
    return switch (step) {
      case DUPLICATE -> TccPhaseOutcome.DUPLICATE;
      case EMPTY_ROLLBACK -> TccPhaseOutcome.EMPTY_ROLLBACK;
      case RUN -> TccPhaseOutcome.APPLIED;
    };
  }

  private Span span(Source source, String name, String phase, TccBranch branch) {
    // the transaction's trace first (its span parents the work of its scope), else the current one
    Optional<TxContext> tx = TxScope.current();
    Context parent = Context.current();
    if (tx.isPresent() && Span.fromContext(tx.get().traceContext()).getSpanContext().isValid()) {
      parent = tx.get().traceContext();
    }
    Span span = tracer.spanBuilder(name).setParent(parent).setSpanKind(SpanKind.CLIENT).startSpan();
    if (!span.isRecording()) {
      return span;
    }
    span.setAttribute(DB_SYSTEM, "postgresql")
        .setAttribute(DB_SYSTEM_NAME, "postgresql")
        .setAttribute(DB_OPERATION, phase)
        .setAttribute(SHARD, source.name)
        .setAttribute(TxContext.GLOBAL_ID_ATTRIBUTE, branch.globalId())
        .setAttribute(TxContext.BRANCH_ID_ATTRIBUTE, branch.branchId());
    if (source.connect != null) {
      span.setAttribute(SERVER_ADDRESS, source.connect.getHost())
          .setAttribute(SERVER_PORT, (long) source.connect.getPort());
      if (source.connect.getDatabase() != null) {
        span.setAttribute(DB_NAMESPACE, source.connect.getDatabase());
      }
    }
    return span;
  }

  private void count(String source, String phase, String outcome) {
    counters
        .computeIfAbsent(
            source + '|' + phase + '|' + outcome,
            k ->
                Counter.builder("shardkit.pg.phases")
                    .description("PostgreSQL TCC/Saga phases, by outcome")
                    .tag("shard", source)
                    .tag("kind", phase)
                    .tag("outcome", outcome)
                    .register(registry))
        .increment();
  }

  private Counter removedCounter(String source) {
    return counters.computeIfAbsent(
        source + "|fence.removed",
        k ->
            Counter.builder("shardkit.pg.fence.removed")
                .description("PostgreSQL fence rows removed after their retention")
                .tag("shard", source)
                .register(registry));
  }

  /** The breaker of one source: the one Redis and the XA PostgreSQL sources use. */
  private SourceBreaker breaker(
      String name, CircuitBreakerOptions options, PgConnectOptions connect, Pool pool) {
    return new SourceBreaker(
        name,
        "postgresql",
        options,
        meters::transition,
        () -> meters.rejected(name),
        PgSources.liveness(vertx, connect, pool));
  }

  /** Builds a {@link PgParticipant}. */
  public static final class Builder {

    /** The default period of the fence clean-up timer: 10 min. */
    public static final Duration DEFAULT_CLEANUP_INTERVAL = Duration.ofMinutes(10);

    private final Vertx vertx;
    private final Map<String, Pool> pools = new LinkedHashMap<>();
    private final Map<String, PostgresSourceOptions> options = new LinkedHashMap<>();
    private String fenceTable = "shardkit_tcc_fence";
    private Duration phaseTimeout = Duration.ofSeconds(5);
    private Duration fenceRetention = Duration.ofDays(7);
    private Duration cleanupInterval = DEFAULT_CLEANUP_INTERVAL;
    private MeterRegistry registry = Metrics.globalRegistry;
    private OpenTelemetry openTelemetry = OpenTelemetry.noop();
    private CircuitBreakerOptions circuitBreaker = CircuitBreakerOptions.defaults();

    private Builder(Vertx vertx) {
      this.vertx = vertx;
    }

    /**
     * A source on a Vert.x PostgreSQL pool the application owns (and closes); its breaker uses
     * {@link #circuitBreaker(CircuitBreakerOptions)}.
     */
    public Builder source(String name, Pool pool) {
      checkName(name);
      pools.put(name, Objects.requireNonNull(pool, "pool"));
      return this;
    }

    /**
     * A source this participant connects to (the XA sources' options: connection, pool size,
     * breaker; the isolation level is not used, phases run under READ COMMITTED); {@link
     * PgParticipant#close()} closes its pool.
     */
    public Builder source(String name, PostgresSourceOptions source) {
      checkName(name);
      options.put(name, Objects.requireNonNull(source, "source"));
      return this;
    }

    /**
     * The PostgreSQL sources named in {@code options} ({@link
     * io.shardkit.tx.TransactionsOptions.Builder#postgres}), under the same names and settings, so
     * XA work and TCC/Saga steps address one configuration (the participant opens pools of its own
     * on them).
     */
    public Builder sources(io.shardkit.tx.TransactionsOptions options) {
      options.postgresSources().forEach(this::source);
      return this;
    }

    private void checkName(String name) {
      if (name == null || name.isBlank()) {
        throw new PgStepConfigurationException(null, name, "a PostgreSQL source needs a name");
      }
      if (pools.containsKey(name) || options.containsKey(name)) {
        throw new PgStepConfigurationException(
            null, name, "PostgreSQL source '" + name + "' is defined twice");
      }
    }

    /** The fence table on every source (default {@code shardkit_tcc_fence}). */
    public Builder fenceTable(String table) {
      this.fenceTable = PgFence.checked(table);
      return this;
    }

    /** The longest a confirm or cancel attempt may take (default 5 s). */
    public Builder phaseTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new PgStepConfigurationException(null, null, "phaseTimeout must be positive");
      }
      this.phaseTimeout = timeout;
      return this;
    }

    /**
     * How long fence rows are kept (default 7 days): longer than any transaction may wait for its
     * confirm or cancel, recovery included; a phase arriving after its rows were removed is not
     * fenced.
     */
    public Builder fenceRetention(Duration retention) {
      if (retention == null || retention.isNegative() || retention.isZero()) {
        throw new PgStepConfigurationException(null, null, "fenceRetention must be positive");
      }
      this.fenceRetention = retention;
      return this;
    }

    /**
     * How often the participant's own timer removes fence rows older than {@link #fenceRetention}
     * (default 10 min, {@link #DEFAULT_CLEANUP_INTERVAL}, as TCC recovery cleans the MySQL fence;
     * the first pass runs after the interval or after one minute, whichever comes first). A pass
     * runs {@link PgParticipant#cleanFence()} batches until one removes nothing (at most 100 per
     * pass), never blocking an event loop; {@link PgParticipant#close()} stops the timer. {@link
     * Duration#ZERO} turns the timer off (then call {@code cleanFence()} yourself).
     */
    public Builder cleanupInterval(Duration interval) {
      if (interval == null || interval.isNegative()) {
        throw new PgStepConfigurationException(
            null, null, "cleanupInterval must be zero (no timer) or positive, got " + interval);
      }
      this.cleanupInterval = interval;
      return this;
    }

    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "meterRegistry");
      return this;
    }

    public Builder openTelemetry(OpenTelemetry openTelemetry) {
      this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
      return this;
    }

    /**
     * The breaker of the sources given as pools (default {@link CircuitBreakerOptions#defaults}).
     */
    public Builder circuitBreaker(CircuitBreakerOptions options) {
      this.circuitBreaker = Objects.requireNonNull(options, "circuitBreaker");
      return this;
    }

    /**
     * @throws PgStepConfigurationException when no source was given
     */
    public PgParticipant build() {
      if (pools.isEmpty() && options.isEmpty()) {
        throw new PgStepConfigurationException(
            null, null, "a PostgreSQL participant needs at least one source");
      }
      return new PgParticipant(this);
    }
  }
}
