package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ConfigurationException;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.router.ShardedPool;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccOutcomeUnknownException;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccParticipants;
import io.shardkit.tx.TccTransaction;
import io.shardkit.tx.TransactionOutcomePendingException;
import io.shardkit.tx.TransactionRolledBackException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/** The TCC coordinator: try phase in the transaction's scope, decision, then completion. */
/**
 * The TCC protocol of {@code Transactions}: runs try / confirm / cancel global transactions with a
 * durable coordinator log (see {@code Transactions#tcc}).
 */
public final class TccCoordinatorImpl {

  /** Test hook: where an abandoned coordinator stops (nothing more is sent after it). */
  /**
   * Shows recovery that this coordinator is alive while {@code work} (a transaction, from its first
   * try to its last confirm or cancel) runs: every third of {@link TccOptions#recoveryTakeover()}
   * its decided row's {@code next_attempt_at} is pushed a takeover ahead (an undecided row is not
   * touched: its deadline governs it). When the coordinator dies, the renewals stop and another
   * instance finishes its decided work a takeover later, not after the whole completion budget.
   */
  <T> Future<T> keptAlive(java.util.function.Supplier<String> gid, Future<T> work) {
    if (work.isComplete()) {
      return work;
    }
    long every = Math.max(10, options.recoveryTakeover().toMillis() / 3);
    long timer =
        vertx.setPeriodic(
            every,
            id -> {
              String g = gid.get();
              if (g != null) {
                Detached.run(
                    vertx,
                    ScopeOptions.builder().globalId(g).timeout(options.phaseTimeout()).build(),
                    () -> log.extend(g));
              }
            });
    return work.andThen(ar -> vertx.cancelTimer(timer));
  }

  /**
   * Completes once the background work of finished transactions (cancel decisions, hand-overs, done
   * marks, second phases past the caller's answer) has ended, or after the completion budget plus a
   * phase timeout; never fails (recovery finishes what is left).
   */
  public Future<Void> drainBackground() {
    return Detached.drain(vertx, options.completionTimeout().plus(options.phaseTimeout()));
  }

  public enum StopAt {
    NONE,
    BEFORE_DECISION,
    AFTER_DECISION,
    AFTER_FIRST_CONFIRM
  }

  private static final System.Logger LOG = System.getLogger(TccCoordinatorImpl.class.getName());

  private final Vertx vertx;
  private final ShardedPool pool;
  private final TccOptions options;
  private final LocalParticipants local;
  private final Map<String, TccParticipant> remote = new ConcurrentHashMap<>();
  private final CoordinatorLog log;
  private final TccMetrics metrics;
  private final Completion completion;
  private final DoneMarks doneMarks;
  private final SagaCoordinatorImpl saga;
  private final io.shardkit.tx.impl.Admission admission;
  private volatile StopAt stopAt = StopAt.NONE;
  private volatile Function<String, Future<Void>> beforeDecision;

  private TccCoordinatorImpl(Vertx vertx, ShardedPool pool, TccOptions options) {
    this.vertx = vertx;
    this.pool = pool;
    this.options = options;
    String logDataSource =
        options.logDataSource() != null
            ? options.logDataSource()
            : pool.dataSourceNames().iterator().next();
    if (!pool.dataSourceNames().contains(logDataSource)) {
      throw new ConfigurationException(
          "logDataSource",
          "'" + logDataSource + "' is not a data source of the pool " + pool.dataSourceNames());
    }
    io.shardkit.tx.impl.trace.TxSpans spans =
        new io.shardkit.tx.impl.trace.TxSpans(options.openTelemetry());
    this.local = LocalParticipants.create(vertx, pool, options, spans);
    this.log = new CoordinatorLog(vertx, pool.pool(logDataSource), options);
    this.metrics = new TccMetrics(options.meterRegistry(), spans, options.observers());
    this.completion = new Completion(vertx, options, metrics);
    this.doneMarks = new DoneMarks(vertx, log, options);
    this.admission =
        new io.shardkit.tx.impl.Admission(
            options.maxInFlight(),
            options.queueDelayTarget(),
            io.shardkit.tx.impl.Admission.maxSizes(pool),
            options.meterRegistry(),
            TccMetrics.MODE,
            "TCC and Saga transactions admitted and not yet finished",
            "TCC",
            "TccOptions");
    // their steps' waits for connections (phases and log writes) are what the limit is judged on
    local.measuredBy(admission);
    log.measuredBy(admission, logDataSource);
    this.saga = new SagaCoordinatorImpl(vertx, this);
  }

  /** The saga protocol, on this coordinator's log, fence, retry and recovery. */
  public SagaCoordinatorImpl saga() {
    return saga;
  }

  <A> void registerLocalStep(io.shardkit.tx.SagaStep<A, ?> step) {
    if (remote.containsKey(step.name())) {
      throw new ConfigurationException(
          "steps." + step.name(), "already registered as a remote participant");
    }
    local.register(step);
  }

  io.shardkit.tx.impl.Admission admission() {
    return admission;
  }

  DoneMarks doneMarks() {
    return doneMarks;
  }

  public static TccCoordinatorImpl create(Vertx vertx, ShardedPool pool, TccOptions options) {
    return new TccCoordinatorImpl(
        Objects.requireNonNull(vertx, "vertx"),
        Objects.requireNonNull(pool, "pool"),
        Objects.requireNonNull(options, "options"));
  }

  /** Test hook: makes the coordinator abandon its transactions at {@code step}. */
  public void stopAt(StopAt step) {
    this.stopAt = Objects.requireNonNull(step);
  }

  /** Test hook: runs (and is waited for) before the COMMIT decision is written; null removes it. */
  public void beforeDecision(Function<String, Future<Void>> hook) {
    this.beforeDecision = hook;
  }

  public <A> TccCoordinatorImpl register(TccAction<A> action) {
    if (remote.containsKey(action.name())) {
      throw new ConfigurationException(
          "actions." + action.name(), "already registered as a remote participant");
    }
    local.register(action);
    return this;
  }

  public TccCoordinatorImpl registerParticipant(String action, TccParticipant participant) {
    Objects.requireNonNull(participant, "participant");
    if (local.has(action) || remote.putIfAbsent(action, participant) != null) {
      throw new ConfigurationException("actions." + action, "already registered");
    }
    return this;
  }

  TccParticipant participantFor(String action) {
    return local.has(action) ? local : remote.get(action);
  }

  CoordinatorLog log() {
    return log;
  }

  TccMetrics metrics() {
    return metrics;
  }

  Completion completion() {
    return completion;
  }

  public Future<Void> setup() {
    return local.setup().compose(v -> log.setup());
  }

  public <T> Future<T> execute(Function<TccTransaction, Future<T>> body) {
    return execute(options.defaultTimeout(), body);
  }

  public <T> Future<T> execute(Duration timeout, Function<TccTransaction, Future<T>> body) {
    return executeResult(timeout, body).map(io.shardkit.tx.TransactionResult::value);
  }

  /** {@link #execute}, answering the value with the global id and the pending flag. */
  public <T> Future<io.shardkit.tx.TransactionResult<T>> executeResult(
      Duration timeout, Function<TccTransaction, Future<T>> body) {
    return executeResult(timeout, false, body);
  }

  /**
   * {@link #execute} under {@code txOptions}: its timeout bounds the try phase; with {@link
   * io.shardkit.tx.TransactionOptions#asyncSecondPhase()} the caller is answered once the COMMIT
   * decision is durable, the confirms running in the background (kept alive, awaited by {@link
   * #drainBackground()}, finished by recovery after a crash).
   */
  public <T> Future<io.shardkit.tx.TransactionResult<T>> executeResult(
      io.shardkit.tx.TransactionOptions txOptions, Function<TccTransaction, Future<T>> body) {
    return executeResult(txOptions.timeout(), txOptions.asyncSecondPhase(), body);
  }

  private <T> Future<io.shardkit.tx.TransactionResult<T>> executeResult(
      Duration timeout, boolean asyncConfirm, Function<TccTransaction, Future<T>> body) {
    Objects.requireNonNull(body, "body");
    ScopeOptions scope;
    try {
      scope = ScopeOptions.builder().timeout(timeout).newGlobalId().build();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    // admission before the first step: refused at once, nothing logged, nothing opened
    if (!admission.tryAcquire()) {
      metrics.refused(TccMetrics.MODE);
      return Future.failedFuture(admission.refusal());
    }
    AtomicReference<TccTransactionImpl> transaction = new AtomicReference<>();
    io.vertx.core.Context caller = io.shardkit.tx.impl.OnContext.callerOrNew(vertx);
    io.shardkit.tx.impl.Hooks hooks =
        new io.shardkit.tx.impl.Hooks(caller, options.meterRegistry(), TccMetrics.MODE);
    io.opentelemetry.api.trace.Span span = metrics.spans().start(TccMetrics.MODE);
    Future<T> tried;
    // current while the scope opens: tries, statements and gRPC hops land under the span
    try (io.opentelemetry.context.Scope ignored = span.makeCurrent()) {
      tried = tried(scope, body, transaction, span, hooks);
    }
    Future<T> decided =
        admission.releaseWhen(
            keptAlive(
                    () -> transaction.get() == null ? null : transaction.get().globalId(),
                    tried.transform(
                        outcome -> {
                          TccTransactionImpl tx = transaction.get();
                          if (tx == null) {
                            return Future.<T>failedFuture(outcome.cause());
                          }
                          return finish(tx, outcome, asyncConfirm);
                        }))
                .andThen(
                    ar -> {
                      TccTransactionImpl tx = transaction.get();
                      metrics
                          .spans()
                          .end(
                              tx == null ? null : tx.globalId(),
                              span,
                              ar.succeeded() ? "committed" : ar.cause().getClass().getSimpleName(),
                              ar.failed() ? ar.cause() : null);
                    }));
    // hooks run once the outcome is final, on the caller's context, before the caller hears it
    // the deadline is a promise: answered by it (plus DeadlineAnswer.SLACK) with what is known
    return io.shardkit.tx.impl.OnContext.on(
            caller,
            DeadlineAnswer.guard(
                    vertx,
                    tried,
                    () -> transaction.get() == null ? null : transaction.get().progress,
                    decided)
                .map(
                    value ->
                        new io.shardkit.tx.TransactionResult<>(
                            value,
                            transaction.get().globalId(),
                            transaction.get().progress.secondPhasePending)))
        .andThen(
            ar -> {
              TccTransactionImpl tx = transaction.get();
              hooks.outcome(tx == null ? null : tx.globalId(), ar);
            });
  }

  private <T> Future<T> tried(
      ScopeOptions scope,
      Function<TccTransaction, Future<T>> body,
      AtomicReference<TccTransactionImpl> transaction,
      io.opentelemetry.api.trace.Span span,
      io.shardkit.tx.impl.Hooks hooks) {
    return TxScope.run(
        vertx,
        scope,
        () -> {
          TxContext context = TxScope.current().orElseThrow();
          metrics.spans().bind(context.globalId(), span);
          TccTransactionImpl tx =
              new TccTransactionImpl(
                  this, context.globalId(), Vertx.currentContext(), context.deadline(), hooks);
          transaction.set(tx);
          return body.apply(tx).compose(value -> tx.awaitTries().map(value));
        });
  }

  private <T> Future<T> finish(TccTransactionImpl tx, AsyncResult<T> tried, boolean asyncConfirm) {
    List<Completion.Target> targets = new ArrayList<>();
    for (TccTransactionImpl.Enlisted e : tx.logged()) {
      targets.add(new Completion.Target(e.branch(), e.participant()));
    }
    if (tried.succeeded()) {
      if (targets.isEmpty()) {
        metrics.outcome(tx.globalId(), "committed");
        return Future.succeededFuture(tried.result());
      }
      tx.progress.value(tried.result());
      tx.progress.stage = DeadlineAnswer.Stage.DECIDING;
      return commit(tx, targets, asyncConfirm).map(tried.result());
    }
    Throwable failure = callerFailure(tried.cause(), tx.rolledBack(tried.cause()));
    tx.progress.cancelling(failure);
    if (targets.isEmpty()) {
      metrics.outcome(tx.globalId(), "cancelled");
      return Future.failedFuture(failure);
    }
    return cancel(tx.globalId(), targets, failure);
  }

  private Future<Void> commit(
      TccTransactionImpl tx, List<Completion.Target> targets, boolean asyncConfirm) {
    String gid = tx.globalId();
    if (stopAt == StopAt.BEFORE_DECISION) {
      return abandoned(gid);
    }
    Function<String, Future<Void>> hook = beforeDecision;
    Future<Void> ready = hook == null ? Future.succeededFuture() : hook.apply(gid);
    Future<Integer> decision =
        ready.compose(
            v ->
                completion.retry(
                    gid,
                    options.completionTimeout(),
                    () -> log.decideCommit(gid),
                    "COMMIT decision"));
    return decision.transform(
        decided -> {
          if (decided.failed()) {
            metrics.outcome(gid, "unknown");
            return Future.failedFuture(
                new TccOutcomeUnknownException(
                    gid,
                    "the COMMIT decision could not be confirmed in the coordinator log",
                    decided.cause()));
          }
          int state = decided.result();
          if (state == Sql.CANCELLING || state == Sql.CANCELLED) {
            tx.progress.cancelling(
                new TransactionRolledBackException(
                    gid,
                    "commit",
                    Map.of(),
                    "recovery cancelled the transaction (past its deadline) before the COMMIT"
                        + " decision"));
            return complete(gid, targets, false, tx.progress.failure, tx.progress);
          }
          tx.progress.stage = DeadlineAnswer.Stage.COMMITTED;
          if (asyncConfirm) {
            return confirmInBackground(tx, targets);
          }
          if (stopAt == StopAt.AFTER_DECISION) {
            return abandoned(gid);
          }
          if (stopAt == StopAt.AFTER_FIRST_CONFIRM) {
            return completion
                .drive(targets.subList(0, 1), true, options.completionTimeout())
                .compose(pending -> abandoned(gid));
          }
          return complete(gid, targets, true, null, tx.progress);
        });
  }

  /**
   * The asynchronous confirm: the decision is durable, so the caller hears "committed" (pending)
   * now; the confirms run detached from its scope, kept alive against takeover while they run,
   * awaited by {@link #drainBackground()}, and confirmed by recovery if this process dies first
   * (with {@link StopAt#AFTER_DECISION} none is sent: the test hook of that death).
   */
  private Future<Void> confirmInBackground(TccTransactionImpl tx, List<Completion.Target> targets) {
    String gid = tx.globalId();
    tx.progress.secondPhasePending = true;
    if (stopAt == StopAt.AFTER_DECISION) {
      return Future.succeededFuture();
    }
    keptAlive(
        () -> gid,
        Detached.run(
            vertx,
            ScopeOptions.builder()
                .globalId(gid)
                .timeout(options.completionTimeout().plus(options.phaseTimeout()))
                .build(),
            () -> complete(gid, targets, true, null, tx.progress)));
    return Future.succeededFuture();
  }

  private <T> Future<T> cancel(String gid, List<Completion.Target> targets, Throwable failure) {
    // The coordinator never writes COMMIT once it cancels and recovery never writes COMMIT, so
    // the branches can be cancelled while the decision is written: it only tells recovery early.
    Future<Integer> decision =
        Detached.run(
            vertx,
            ScopeOptions.builder().globalId(gid).timeout(options.phaseTimeout()).build(),
            () -> log.decideCancel(gid));
    decision.onSuccess(
        state -> {
          if (state == Sql.COMMIT || state == Sql.COMMITTED) {
            LOG.log(
                System.Logger.Level.ERROR,
                "transaction " + gid + " was cancelling but the log says COMMIT: a bug");
          }
        });
    Future<T> completed = complete(gid, targets, false, failure, null);
    return Future.join(decision, completed).transform(ignored -> completed);
  }

  /**
   * Drives the decision on every branch; on success marks the transaction finished (batched) and
   * succeeds (confirm) or fails with {@code failure} (cancel); on an exhausted budget hands the
   * transaction over to recovery and fails with {@link TransactionOutcomePendingException}.
   */
  private <T> Future<T> complete(
      String gid,
      List<Completion.Target> targets,
      boolean commit,
      Throwable failure,
      DeadlineAnswer.Progress progress) {
    return completion
        .drive(targets, commit, options.completionTimeout())
        .compose(
            pending -> {
              if (pending.isEmpty()) {
                doneMarks.add(gid);
                metrics.outcome(gid, commit ? "committed" : "cancelled");
                return commit ? Future.succeededFuture() : Future.failedFuture(failure);
              }
              Detached.run(
                  vertx,
                  ScopeOptions.builder().globalId(gid).timeout(options.phaseTimeout()).build(),
                  () -> log.handOver(gid));
              metrics.outcome(gid, commit ? "pending_commit" : "pending_cancel");
              if (commit) {
                progress.secondPhasePending = true;
                // committed: the decision is durable, recovery confirms the branches left
                LOG.log(
                    System.Logger.Level.INFO,
                    "transaction " + gid + " committed; recovery confirms " + pending);
                return Future.succeededFuture();
              }
              return Future.failedFuture(
                  new TransactionOutcomePendingException(
                      gid,
                      commit
                          ? TransactionOutcomePendingException.Decision.COMMIT
                          : TransactionOutcomePendingException.Decision.ROLLBACK,
                      pending,
                      failure));
            });
  }

  /**
   * What the caller of a cancelled transaction gets: as {@code Pool.withTransaction} does, the
   * failure of its own work (the body's, or the try/action it awaited: a business refusal, a
   * statement's error, the deadline's {@code ShardkitTimeoutException}) with shardkit's details
   * (global id, phase, causes by branch) attached as a suppressed {@link
   * TransactionRolledBackException}; the typed exception itself when there is no such failure or
   * the failure cannot carry a suppressed exception.
   */
  static Throwable callerFailure(Throwable cause, TransactionRolledBackException details) {
    if (cause == null || cause == details) {
      return details;
    }
    cause.addSuppressed(details);
    for (Throwable attached : cause.getSuppressed()) {
      if (attached == details) {
        return cause;
      }
    }
    // an exception that takes no suppressed ones (Vert.x's NoStackTraceThrowable from
    // Future.failedFuture(String), shared singletons): the typed exception, the failure its cause
    return details;
  }

  private static <T> Future<T> abandoned(String gid) {
    return Future.failedFuture(
        new ShardkitException("transaction " + gid + ": coordinator abandoned it (test hook)"));
  }

  public TccParticipants participants() {
    return local;
  }

  public TccRecovery recovery() {
    return new RecoveryImpl(vertx, this, options);
  }

  public TccOptions options() {
    return options;
  }

  ShardedPool pool() {
    return pool;
  }
}
