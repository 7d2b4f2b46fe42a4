package io.shardkit.tx.impl.xa;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.shardkit.context.ConfigurationException;
import io.shardkit.context.TxContext;
import io.shardkit.router.ShardCircuitOpenException;
import io.shardkit.router.ShardUnavailableException;
import io.shardkit.tx.PostgresSourceOptions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.SourceBreaker;
import io.shardkit.tx.impl.SourceMeters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The named PostgreSQL data sources of a {@code Transactions} instance: their pools, the check that
 * each allows prepared transactions, their circuit breakers, meters (the router's names, tagged
 * {@code shard=<name>}) and statement spans ({@code db.system=postgresql}).
 */
public final class PgSources {

  static final AttributeKey<String> DB_SYSTEM = AttributeKey.stringKey("db.system");
  static final AttributeKey<String> DB_SYSTEM_NAME = AttributeKey.stringKey("db.system.name");
  static final AttributeKey<String> DB_NAMESPACE = AttributeKey.stringKey("db.namespace");
  static final AttributeKey<String> DB_OPERATION = AttributeKey.stringKey("db.operation.name");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> SHARD = AttributeKey.stringKey("shardkit.shard");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  /** One PostgreSQL data source. */
  static final class Source {
    final String name;
    final PostgresSourceOptions options;
    final PgConnectOptions connect;
    final Pool pool;
    final SourceBreaker breaker;
    private volatile boolean checked;

    Source(String name, PostgresSourceOptions options, Pool pool, SourceBreaker breaker) {
      this.name = name;
      this.options = options;
      this.connect = options.connectOptions();
      this.pool = pool;
      this.breaker = breaker;
    }

    String where() {
      return connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase();
    }
  }

  private final Map<String, Source> sources;
  private final MeterRegistry registry;
  private final Tracer tracer;
  private final io.shardkit.tx.impl.trace.TxSpans spans;
  private final SourceMeters meters;

  PgSources(
      Vertx vertx,
      TransactionsOptions options,
      Set<String> poolDataSources,
      io.shardkit.tx.impl.trace.TxSpans spans) {
    this.registry = options.meterRegistry();
    this.meters = new SourceMeters(registry);
    this.tracer = options.openTelemetry().getTracer("io.shardkit.tx");
    this.spans = spans;
    Map<String, Source> all = new LinkedHashMap<>();
    options
        .postgresSources()
        .forEach(
            (name, source) -> {
              if (poolDataSources.contains(name)) {
                throw new ConfigurationException(
                    "postgres." + name,
                    "'"
                        + name
                        + "' is also a data source of the pool: a PostgreSQL source needs a name"
                        + " of its own");
              }
              Pool pool =
                  PgBuilder.pool()
                      .with(source.poolOptions())
                      .connectingTo(source.connectOptions())
                      .using(vertx)
                      .build();
              SourceBreaker breaker =
                  new SourceBreaker(
                      name,
                      "postgresql",
                      source.circuitBreaker(),
                      meters::transition,
                      () -> meters.rejected(name),
                      liveness(vertx, source.connectOptions(), pool));
              all.put(name, new Source(name, source, pool, breaker));
              int max = source.poolOptions().getMaxSize();
              Gauge.builder("shardkit.pool.size", pool, Pool::size)
                  .description("Open connections of the data source's pool")
                  .tag("shard", name)
                  .register(registry);
              Gauge.builder("shardkit.pool.max", () -> max)
                  .description("Maximum size of the data source's pool")
                  .tag("shard", name)
                  .register(registry);
              Gauge.builder("shardkit.breaker.state", breaker, b -> b.state().ordinal())
                  .description("Circuit breaker state: 0 closed, 1 half-open, 2 open")
                  .tag("shard", name)
                  .register(registry);
            });
    this.sources = all;
  }

  boolean contains(String name) {
    return sources.containsKey(name);
  }

  Set<String> names() {
    return sources.keySet();
  }

  Source get(String name) {
    return sources.get(name);
  }

  /**
   * Fails with a {@link ConfigurationException} naming the setting and the source when the server
   * has {@code max_prepared_transactions = 0} (PostgreSQL's default: PREPARE TRANSACTION is
   * disabled); with {@link ShardUnavailableException} when it cannot be reached. A success is kept.
   */
  Future<Void> check(String name) {
    Source s = sources.get(name);
    if (s.checked) {
      return Future.succeededFuture();
    }
    return s.pool
        .query("SHOW max_prepared_transactions")
        .execute()
        .recover(e -> Future.failedFuture(new ShardUnavailableException(name, e)))
        .compose(
            rows -> {
              String value = rows.iterator().next().getString(0);
              if ("0".equals(value.trim())) {
                return Future.failedFuture(
                    new ConfigurationException(
                        "postgres." + name,
                        "PostgreSQL data source '"
                            + name
                            + "' ("
                            + s.where()
                            + ") has max_prepared_transactions = 0 (PostgreSQL's default), so"
                            + " PREPARE TRANSACTION is disabled and it cannot take part in a global"
                            + " transaction: set max_prepared_transactions to at least the number"
                            + " of transactions that may be prepared at once (e.g. 100) in"
                            + " postgresql.conf and restart the server"));
              }
              s.checked = true;
              return Future.<Void>succeededFuture();
            });
  }

  /** Checks every source (warm-up). */
  Future<Void> checkAll() {
    List<Future<Void>> all = new ArrayList<>();
    for (String name : sources.keySet()) {
      all.add(check(name));
    }
    return Future.all(all).mapEmpty();
  }

  Future<Void> close() {
    List<Future<Void>> all = new ArrayList<>();
    for (Source s : sources.values()) {
      all.add(s.pool.close());
    }
    return Future.join(all).<Void>mapEmpty().otherwiseEmpty();
  }

  /**
   * Runs one statement of the work on a PostgreSQL branch: a CLIENT span under the transaction's
   * span, the router's per-shard statement timer, and the breaker's count.
   */
  <R> Future<R> statement(String name, String gid, String sql, Supplier<Future<R>> run) {
    Source s = sources.get(name);
    try {
      s.breaker.acquire(); // refused at once while open; counts a half-open probe
    } catch (ShardCircuitOpenException open) {
      return Future.failedFuture(open);
    }
    String operation = operation(sql);
    long t0 = System.nanoTime();
    Span parent = spans.span(gid);
    Span span =
        tracer
            .spanBuilder(operation + " " + name)
            .setParent(parent == null ? Context.current() : Context.root().with(parent))
            .setSpanKind(SpanKind.CLIENT)
            .startSpan();
    if (span.isRecording()) {
      span.setAttribute(DB_SYSTEM, "postgresql")
          .setAttribute(DB_SYSTEM_NAME, "postgresql")
          .setAttribute(DB_OPERATION, operation)
          .setAttribute(SHARD, name)
          .setAttribute(SERVER_ADDRESS, s.connect.getHost())
          .setAttribute(SERVER_PORT, (long) s.connect.getPort())
          .setAttribute(TxContext.GLOBAL_ID_ATTRIBUTE, gid);
      if (s.connect.getDatabase() != null) {
        span.setAttribute(DB_NAMESPACE, s.connect.getDatabase());
      }
    }
    // answered on the context that sent it (the work's, where its transaction scope is current),
    // not on the one the connection was taken on
    io.vertx.core.Context caller = io.vertx.core.Vertx.currentContext();
    Future<R> result =
        counted(
            s,
            () -> caller == null ? run.get() : io.shardkit.tx.impl.OnContext.on(caller, run.get()));
    return result.andThen(
        ar -> {
          String outcome =
              ar.succeeded()
                  ? "success"
                  : ar.cause() instanceof ShardUnavailableException ? "unavailable" : "failure";
          meters
              .statements(name, operation.toLowerCase(Locale.ROOT), outcome)
              .record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
          if (span.isRecording()) {
            if (ar.failed()) {
              span.recordException(ar.cause());
              span.setAttribute(ERROR_TYPE, ar.cause().getClass().getName());
              span.setStatus(StatusCode.ERROR);
            }
            span.end();
          }
        });
  }

  /**
   * A branch's start ({@code BEGIN ...}) on a source, counted by its breaker as the work's
   * statements are (no span or statement timer: those are the work's).
   */
  <R> Future<R> start(String name, Supplier<Future<R>> run) {
    Source s = sources.get(name);
    try {
      s.breaker.acquire();
    } catch (ShardCircuitOpenException open) {
      return Future.failedFuture(open);
    }
    return counted(s, run);
  }

  /**
   * Tells the source's breaker of {@code pending} (a branch's connection on its way) as unanswered
   * if it is still pending when the current transaction's deadline passes, unless {@code counted}
   * was set first (whoever sets it counts).
   */
  void countAtDeadline(
      String name, Future<?> pending, java.util.concurrent.atomic.AtomicBoolean counted) {
    Source s = sources.get(name);
    if (s != null) {
      countAtDeadline(s, pending, counted, "no connection from");
    }
  }

  private static void countAtDeadline(
      Source s, Future<?> pending, java.util.concurrent.atomic.AtomicBoolean counted, String what) {
    if (io.shardkit.context.TxScope.current().isEmpty()) {
      return;
    }
    io.shardkit.context.TxScope.bound(
        pending,
        () -> {
          if (!pending.isComplete() && counted.compareAndSet(false, true)) {
            s.breaker.release(
                new java.util.concurrent.TimeoutException(
                    what + " PostgreSQL source '" + s.name + "' by the deadline"));
          }
        });
  }

  /**
   * Runs a call the breaker has admitted ({@code acquire}) and tells the breaker of it once: when
   * it ends, or when its transaction's deadline passes first. A frozen server never answers, and
   * without this its breaker never heard of it (there is no slow-call count here): at the deadline
   * the call counts as unanswered, and the breaker's liveness check tells a frozen or dead server
   * (counted) from a live one where the statement waits for a lock (not counted).
   */
  private static <R> Future<R> counted(Source s, Supplier<Future<R>> run) {
    Future<R> result;
    try {
      result = run.get();
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    java.util.concurrent.atomic.AtomicBoolean counted =
        new java.util.concurrent.atomic.AtomicBoolean();
    countAtDeadline(s, result, counted, "no answer from");
    return result.andThen(
        ar -> {
          if (counted.compareAndSet(false, true)) {
            s.breaker.release(ar.succeeded() ? null : unanswered(ar.cause()));
          }
        });
  }

  /** How long the liveness check of a PostgreSQL source's breaker waits for its answer. */
  public static final long LIVENESS_TIMEOUT_MS = 1_000;

  /**
   * The liveness check of a PostgreSQL source's breaker ({@link SourceBreaker}): {@code SELECT 1}
   * on a connection of its own ({@code connect}; on {@code pool} when the application gave the
   * pool), answered within {@link #LIVENESS_TIMEOUT_MS}. A statement ended by its transaction's
   * deadline while it waited for a row lock then does not count against a server that answers.
   */
  public static java.util.function.Supplier<Future<Void>> liveness(
      io.vertx.core.Vertx vertx, PgConnectOptions connect, Pool pool) {
    return () -> {
      Future<?> asked =
          connect != null
              ? io.vertx.pgclient.PgConnection.connect(vertx, new PgConnectOptions(connect))
                  .compose(c -> c.query("SELECT 1").execute().eventually(c::close))
              : pool.query("SELECT 1").execute();
      return within(
          vertx,
          LIVENESS_TIMEOUT_MS,
          asked,
          "no answer to SELECT 1 within " + LIVENESS_TIMEOUT_MS + " ms");
    };
  }

  /** {@code work}'s outcome (emptied), or a timeout failure once {@code ms} passed first. */
  private static Future<Void> within(
      io.vertx.core.Vertx vertx, long ms, Future<?> work, String timedOut) {
    io.vertx.core.Promise<Void> answered = io.vertx.core.Promise.promise();
    long timer =
        vertx.setTimer(
            ms, id -> answered.tryFail(new java.util.concurrent.TimeoutException(timedOut)));
    work.onComplete(
        ar -> {
          vertx.cancelTimer(timer);
          if (ar.succeeded()) {
            answered.tryComplete();
          } else {
            answered.tryFail(ar.cause());
          }
        });
    return answered.future();
  }

  /** How long a PostgreSQL cancel request may take before it is given up. */
  public static final long CANCEL_TIMEOUT_MS = 2_000;

  /**
   * Cancels the statement running on a PostgreSQL connection: the protocol's CancelRequest ({@code
   * PgConnection.cancelRequest()}, what {@code pg_cancel_backend} does), sent on a connection of
   * its own; a lock wait or a long scan ends with 57014. A cancel names a backend, not a statement,
   * and its request gets no answer that says which statement it met: the returned future therefore
   * fails in every case, once the server has taken the request (it signals the backend before
   * closing the cancel connection) or after {@link #CANCEL_TIMEOUT_MS}, so that the caller, which
   * treats a failed kill as "close for real" ({@code ShardedPool.cancelRunning}'s contract), never
   * pools the connection and a cancel landing late cannot meet the next borrower's statement.
   */
  public static Future<Void> cancelRunning(
      io.vertx.core.Vertx vertx, io.vertx.sqlclient.SqlConnection connection) {
    if (!(connection instanceof io.vertx.pgclient.PgConnection pg)) {
      return Future.failedFuture(new IllegalStateException("not a PostgreSQL connection"));
    }
    Future<Void> sent;
    try {
      sent = pg.cancelRequest();
    } catch (RuntimeException e) {
      sent = Future.failedFuture(e);
    }
    return within(
            vertx,
            CANCEL_TIMEOUT_MS,
            sent,
            "cancel request unanswered after " + CANCEL_TIMEOUT_MS + " ms")
        .transform(
            ar ->
                Future.failedFuture(
                    new IllegalStateException(
                        "statement cancelled"
                            + (ar.failed() ? " (" + ar.cause().getMessage() + ")" : "")
                            + ": the connection is closed, not pooled")));
  }

  /**
   * What the breaker counts of a call's failure: nothing when the server answered (a PostgreSQL
   * error is an answer: the server is there), the failure otherwise (unreachable, reset, timed
   * out).
   */
  public static Throwable unanswered(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof PgException
          || t instanceof ShardCircuitOpenException
          || t instanceof io.shardkit.router.ShardOverloadedException) {
        return null; // the server answered, or nothing was asked of it (a full wait queue)
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return failure;
  }

  /** The statement's first keyword, upper case (SELECT, INSERT, ...), or OTHER. */
  static String operation(String sql) {
    String s = sql.stripLeading();
    int end = 0;
    while (end < s.length() && Character.isLetter(s.charAt(end))) {
      end++;
    }
    return end == 0 ? "OTHER" : s.substring(0, end).toUpperCase(Locale.ROOT);
  }
}
