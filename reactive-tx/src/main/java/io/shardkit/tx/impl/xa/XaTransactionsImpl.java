package io.shardkit.tx.impl.xa;

import io.shardkit.context.ConfigurationException;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.spi.ShardTransaction;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.spi.TransactionObserver;
import io.shardkit.tx.spi.TransactionObserver.Outcome;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

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
  private volatile StopPoint stopPoint = StopPoint.NONE;

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
    this.log =
        new CoordinatorLog(
            pool.pool(options.logDataSource()),
            options.logTable(),
            rootContext(vertx),
            LOG_CONNECTIONS);
    List<TransactionObserver> all = new ArrayList<>();
    all.add(new MetricsObserver(options.meterRegistry()));
    all.addAll(options.observers());
    this.observers = List.copyOf(all);
    this.recovery = new XaRecoveryImpl(this);
    this.spans = new io.shardkit.tx.impl.trace.TxSpans(options.openTelemetry());
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

  public <T> Future<T> withTransaction(
      TransactionOptions options, Function<SqlClient, Future<T>> work) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(work, "work");
    AtomicReference<XaTransaction> current = new AtomicReference<>();
    ScopeOptions scope = ScopeOptions.builder().timeout(options.timeout()).newGlobalId().build();
    io.opentelemetry.api.trace.Span span = spans.start(MODE);
    Future<T> outcome;
    // current while the scope opens: the scope's trace context (statements, hops) is under it
    try (io.opentelemetry.context.Scope ignored = span.makeCurrent()) {
      outcome = inScope(scope, work, current, span);
    }
    return outcome
        .recover(
            e -> {
              XaTransaction tx = current.get();
              return Future.failedFuture(tx == null ? e : tx.scopeFailure(e));
            })
        .andThen(
            ar -> {
              XaTransaction tx = current.get();
              spans.end(
                  tx == null ? null : tx.globalId(),
                  span,
                  ar.succeeded() ? "committed" : ar.cause().getClass().getSimpleName(),
                  ar.failed() ? ar.cause() : null);
            });
  }

  private <T> Future<T> inScope(
      ScopeOptions scope,
      Function<SqlClient, Future<T>> work,
      AtomicReference<XaTransaction> current,
      io.opentelemetry.api.trace.Span span) {
    return TxScope.run(
        vertx,
        scope,
        () -> {
          TxContext context = TxScope.current().orElseThrow();
          spans.bind(context.globalId(), span);
          XaTransaction tx = new XaTransaction(this, context, pool);
          io.vertx.core.Context scopeContext = Vertx.currentContext();
          current.set(tx);
          long t0 = System.nanoTime();
          Future<T> result =
              log.ready()
                  .recover(e -> Future.succeededFuture()) // the decision will report it
                  .compose(v -> here(scopeContext, () -> run(work, tx)));
          return result.transform(
              ar -> {
                phase(tx.globalId(), "execute", t0, ar.succeeded());
                return ar.succeeded()
                    ? tx.commit().map(v -> ar.result())
                    : tx.rollbackAfterFailure(ar.cause()).map(v -> ar.result());
              });
        });
  }

  private <T> Future<T> run(Function<SqlClient, Future<T>> work, XaTransaction tx) {
    try {
      Future<T> result = work.apply(pool.withConnections(tx::clientFor));
      return result != null
          ? result
          : Future.failedFuture(new NullPointerException("work returned null"));
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
  }

  /** Runs {@code body} on {@code context} when it is not the current one. */
  private static <T> Future<T> here(io.vertx.core.Context context, Supplier<Future<T>> body) {
    if (Vertx.currentContext() == context) {
      return body.get();
    }
    io.vertx.core.Promise<T> promise = io.vertx.core.Promise.promise();
    context.runOnContext(v -> body.get().onComplete(promise));
    return promise.future();
  }

  public Future<ShardTransaction> begin(ShardedPool pool, Duration timeout) {
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(timeout, "timeout");
    try {
      TransactionOptions.ofTimeout(timeout); // validates: positive, at most the maximum
      checkDataSourceNames(pool);
    } catch (RuntimeException invalid) {
      return Future.failedFuture(invalid);
    }
    return XaShardTransaction.begin(this, pool, timeout);
  }

  io.shardkit.tx.impl.trace.TxSpans spans() {
    return spans;
  }

  public Future<Void> installSchema() {
    return log.install();
  }

  public XaRecovery recovery() {
    return recovery;
  }

  XaRecoveryImpl recoveryImpl() {
    return recovery;
  }

  public Future<Optional<Decision>> decision(String globalId) {
    return log.read(List.of(globalId)).map(found -> Optional.ofNullable(found.get(globalId)));
  }

  public Future<Void> close() {
    return recovery.stop().eventually(log::close);
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

  /** Test hook: abandon transactions at this step, as a crashed coordinator would. */
  public void stopAt(StopPoint point) {
    this.stopPoint = point;
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
