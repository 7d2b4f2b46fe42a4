package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ConfigurationException;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.SagaTransaction;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TransactionCommittedException;
import io.shardkit.tx.TransactionOutcomePendingException;
import io.shardkit.tx.TransactionOutcomeUnknownException;
import io.shardkit.tx.TransactionRolledBackException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The saga protocol of {@code Transactions}, on the TCC coordinator's core: the same log table
 * (rows with protocol {@code SAGA}), the same fence (a step's action is fenced as a try, its
 * compensation as a cancel), the same retry and recovery. A saga is TRYING while it runs; its body
 * succeeding moves it straight to COMMITTED; a retry-only step moves it to COMMIT (its pivot) in
 * the write that logs the step, after which it only goes forward (retry-only actions until done,
 * then COMMITTED); a failure before the pivot moves it to CANCEL and compensates every logged step
 * in reverse log order, one after another, then CANCELLED. Recovery resumes it from the log the
 * same way.
 */
public final class SagaCoordinatorImpl {

  private static final System.Logger LOG = System.getLogger(SagaCoordinatorImpl.class.getName());

  /** Test hook: where an abandoned coordinator stops (nothing more is sent after it). */
  public enum StopAt {
    NONE,
    /** The body and steps ended; no decision written, nothing compensated. */
    BEFORE_DECISION,
    /** A retry-only step was logged (the saga is committed) and its action not run. */
    AFTER_PIVOT
  }

  private static final Protocol SAGA = Protocol.SAGA;

  private final Vertx vertx;
  private final TccCoordinatorImpl core;
  private final TccOptions options;
  private final Map<String, SagaStep<?, ?>> steps = new ConcurrentHashMap<>();
  private volatile StopAt stopAt = StopAt.NONE;

  SagaCoordinatorImpl(Vertx vertx, TccCoordinatorImpl core) {
    this.vertx = vertx;
    this.core = core;
    this.options = core.options();
  }

  /** Test hook: makes the coordinator abandon its sagas at {@code step}. */
  public void stopAt(StopAt step) {
    this.stopAt = Objects.requireNonNull(step);
  }

  TccCoordinatorImpl core() {
    return core;
  }

  SagaStep<?, ?> step(String name) {
    return steps.get(name);
  }

  /**
   * Registers a step: a local one runs on this pool's shards (fenced); a remote reference is sent
   * to the participant registered under its name.
   */
  public <A> SagaCoordinatorImpl register(SagaStep<A, ?> step) {
    Objects.requireNonNull(step, "step");
    if (step.isLocal()) {
      core.registerLocalStep(step);
    }
    if (steps.putIfAbsent(step.name(), step) != null) {
      throw new ConfigurationException("steps." + step.name(), "already registered");
    }
    return this;
  }

  /**
   * Runs a step's action once (in the saga's scope); completes with its result for a step this
   * process runs ({@code own}), with null for a remote reference (whatever serves it).
   */
  @SuppressWarnings("unchecked")
  <R> Future<R> invoke(TccParticipant participant, TccBranch branch, boolean own) {
    if (own && participant instanceof LocalParticipants local) {
      return local.runAction(branch).map(value -> (R) value);
    }
    return participant.tryBranch(branch).map(outcome -> null);
  }

  /** Runs a retry-only step's action until it succeeds or the completion budget ends. */
  <R> Future<R> forward(TccParticipant participant, TccBranch branch, boolean own) {
    if (stopAt == StopAt.AFTER_PIVOT) {
      return abandoned(branch.globalId());
    }
    return core.completion()
        .retry(
            branch.globalId(),
            options.completionTimeout(),
            () -> this.<R>invoke(participant, branch, own),
            "retry-only step " + branch.describe());
  }

  public <T> Future<T> execute(Duration timeout, Function<SagaTransaction, Future<T>> body) {
    return executeResult(timeout, body).map(io.shardkit.tx.TransactionResult::value);
  }

  /** {@link #execute}, answering the value with the global id and the pending flag. */
  public <T> Future<io.shardkit.tx.TransactionResult<T>> executeResult(
      Duration timeout, Function<SagaTransaction, Future<T>> body) {
    Objects.requireNonNull(body, "body");
    ScopeOptions scope;
    try {
      scope = ScopeOptions.builder().timeout(timeout).newGlobalId().build();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    // admission before the first step, shared with TCC: refused at once, nothing logged
    if (!core.admission().tryAcquire()) {
      core.metrics().refused(SAGA.mode());
      return Future.failedFuture(core.admission().refusal("Saga"));
    }
    AtomicReference<SagaTransactionImpl> saga = new AtomicReference<>();
    AtomicReference<Future<T>> bodyResult = new AtomicReference<>();
    io.vertx.core.Context caller = io.shardkit.tx.impl.OnContext.callerOrNew(vertx);
    io.shardkit.tx.impl.Hooks hooks =
        new io.shardkit.tx.impl.Hooks(caller, options.meterRegistry(), SAGA.mode());
    io.opentelemetry.api.trace.Span span = core.metrics().spans().start(SAGA.mode());
    Future<T> ran;
    try (io.opentelemetry.context.Scope ignored = span.makeCurrent()) {
      ran =
          TxScope.run(
              vertx,
              scope,
              () -> {
                TxContext context = TxScope.current().orElseThrow();
                core.metrics().spans().bind(context.globalId(), span);
                SagaTransactionImpl tx =
                    new SagaTransactionImpl(
                        this,
                        context.globalId(),
                        Vertx.currentContext(),
                        context.deadline(),
                        hooks);
                saga.set(tx);
                Future<T> result = body.apply(tx);
                bodyResult.set(result);
                return result.compose(value -> tx.awaitSteps().map(value));
              });
    }
    Future<T> decided =
        core.admission()
            .releaseWhen(
                core.keptAlive(
                        () -> saga.get() == null ? null : saga.get().globalId(),
                        ran.transform(
                            outcome -> {
                              SagaTransactionImpl tx = saga.get();
                              if (tx == null) {
                                return Future.<T>failedFuture(outcome.cause());
                              }
                              Future<Void> closed = tx.close();
                              // what the caller hears if the deadline comes while the last log
                              // write
                              // is still in flight (a frozen log): known before that write settles
                              foresee(tx, outcome, bodyResult.get());
                              return closed.transform(
                                  ignored -> finish(tx, outcome, bodyResult.get()));
                            }))
                    .andThen(
                        ar -> {
                          SagaTransactionImpl tx = saga.get();
                          core.metrics()
                              .spans()
                              .end(
                                  tx == null ? null : tx.globalId(),
                                  span,
                                  ar.succeeded()
                                      ? "committed"
                                      : ar.cause().getClass().getSimpleName(),
                                  ar.failed() ? ar.cause() : null);
                        }));
    // the deadline is a promise: answered by it (plus DeadlineAnswer.SLACK) with what is known
    return io.shardkit.tx.impl.OnContext.on(
            caller,
            DeadlineAnswer.guard(
                    vertx, ran, () -> saga.get() == null ? null : saga.get().progress, decided)
                .map(
                    value ->
                        new io.shardkit.tx.TransactionResult<>(
                            value, saga.get().globalId(), saga.get().progress.secondPhasePending)))
        .andThen(
            ar -> {
              SagaTransactionImpl tx = saga.get();
              hooks.outcome(tx == null ? null : tx.globalId(), ar);
            });
  }

  /**
   * Sets what the caller is answered at the deadline while the saga's last log write (a step, or
   * its pivot) has not settled, as {@link #finish} will decide once it has: past a durable pivot,
   * committed (with the body's value once the body returned, even if its retry-only steps still
   * run); a pivot in flight, unknown (it may land); the body or a step failed with no pivot ever
   * sent, rolled back (nobody can commit it any more); the body succeeded, deciding (its commit
   * write follows the one in flight).
   */
  private static <T> void foresee(SagaTransactionImpl tx, AsyncResult<T> ran, Future<T> body) {
    if (ran.succeeded()) {
      tx.progress.value(ran.result());
    } else if (tx.pivotLogged() && body != null && body.succeeded()) {
      // committed, the body returned, its retry-only steps still running at the deadline: the
      // caller gets the body's value (the pending flag says the rest goes on)
      tx.progress.value(body.result());
    }
    if (tx.pivotLogged()) {
      tx.progress.stage = DeadlineAnswer.Stage.COMMITTED;
    } else if (tx.pivotAttempted() || ran.succeeded()) {
      tx.progress.stage = DeadlineAnswer.Stage.DECIDING;
    } else {
      tx.progress.cancelling(
          TccCoordinatorImpl.callerFailure(ran.cause(), tx.rolledBack(ran.cause())));
    }
  }

  private <T> Future<T> finish(SagaTransactionImpl tx, AsyncResult<T> ran, Future<T> body) {
    String gid = tx.globalId();
    if (stopAt == StopAt.BEFORE_DECISION || (stopAt == StopAt.AFTER_PIVOT && tx.pivotAttempted())) {
      return abandoned(gid);
    }
    if (ran.succeeded()) {
      tx.progress.value(ran.result());
    }
    if (tx.pivotLogged()) {
      tx.progress.stage = DeadlineAnswer.Stage.COMMITTED;
      return forward(tx, ran, body);
    }
    if (tx.pivotAttempted()) {
      tx.progress.stage = DeadlineAnswer.Stage.DECIDING;
      // the pivot's write failed: it may have landed all the same; the log decides
      return core.completion()
          .retry(
              gid,
              options.completionTimeout(),
              () -> core.log().decideCancel(gid, SAGA),
              "CANCEL decision")
          .transform(
              decided -> {
                if (decided.failed()) {
                  core.metrics().outcome(SAGA.mode(), gid, "unknown");
                  return Future.failedFuture(
                      new TransactionOutcomeUnknownException(gid, "decide", decided.cause()));
                }
                int state = decided.result();
                if (state == Sql.COMMIT || state == Sql.COMMITTED) {
                  tx.progress.stage = DeadlineAnswer.Stage.COMMITTED;
                  return forward(tx, ran, body);
                }
                Throwable cause = ran.failed() ? ran.cause() : null;
                tx.progress.cancelling(
                    TccCoordinatorImpl.callerFailure(cause, tx.rolledBack(cause)));
                return compensate(tx, tx.progress.failure);
              });
    }
    if (ran.succeeded()) {
      if (tx.logged().isEmpty()) {
        core.metrics().outcome(SAGA.mode(), gid, "committed");
        return Future.succeededFuture(ran.result());
      }
      tx.progress.stage = DeadlineAnswer.Stage.DECIDING;
      return core.completion()
          .retry(gid, options.completionTimeout(), () -> core.log().commitFinished(gid), "COMMIT")
          .transform(
              decided -> {
                if (decided.failed()) {
                  core.metrics().outcome(SAGA.mode(), gid, "unknown");
                  return Future.failedFuture(
                      new TransactionOutcomeUnknownException(gid, "decide", decided.cause()));
                }
                int state = decided.result();
                if (state == Sql.COMMITTED || state == Sql.COMMIT) {
                  tx.progress.stage = DeadlineAnswer.Stage.COMMITTED;
                  core.metrics().outcome(SAGA.mode(), gid, "committed");
                  return Future.succeededFuture(ran.result());
                }
                tx.progress.cancelling(
                    new TransactionRolledBackException(
                        gid,
                        "commit",
                        Map.of(),
                        "recovery cancelled the saga (past its deadline) before it could commit;"
                            + " its steps were compensated"));
                return compensate(tx, tx.progress.failure);
              });
    }
    Throwable rolledBack =
        tx.progress.failure != null // foreseen: the details are attached once
            ? tx.progress.failure
            : TccCoordinatorImpl.callerFailure(ran.cause(), tx.rolledBack(ran.cause()));
    tx.progress.cancelling(rolledBack);
    if (tx.logged().isEmpty()) {
      core.metrics().outcome(SAGA.mode(), gid, "cancelled");
      return Future.failedFuture(rolledBack);
    }
    // No pivot was ever sent: nobody can write COMMIT for this saga any more (recovery only
    // cancels), so its steps are compensated while the decision is written, as TCC cancels.
    Future<Integer> decision =
        Detached.run(
            vertx,
            ScopeOptions.builder().globalId(gid).timeout(options.phaseTimeout()).build(),
            () -> core.log().decideCancel(gid, SAGA));
    Future<T> compensated = compensate(tx, rolledBack);
    return Future.join(decision, compensated).transform(ignored -> compensated);
  }

  /** Compensates every logged compensatable step, in reverse log order, one after another. */
  private <T> Future<T> compensate(SagaTransactionImpl tx, Throwable rolledBack) {
    String gid = tx.globalId();
    List<Completion.Target> targets = new ArrayList<>();
    for (SagaTransactionImpl.Logged e : tx.logged()) {
      if (!e.retryOnly()) {
        targets.add(new Completion.Target(e.branch(), e.participant()));
      }
    }
    Collections.reverse(targets);
    return core.completion()
        .driveInOrder(targets, Sql.CANCEL, SAGA, options.completionTimeout())
        .compose(
            pending -> {
              if (pending.isEmpty()) {
                core.doneMarks().add(gid);
                core.metrics().outcome(SAGA.mode(), gid, "cancelled");
                return Future.failedFuture(rolledBack);
              }
              handOver(gid);
              core.metrics().outcome(SAGA.mode(), gid, "pending_cancel");
              return Future.failedFuture(
                  new TransactionOutcomePendingException(
                      gid,
                      TransactionOutcomePendingException.Decision.ROLLBACK,
                      pending,
                      rolledBack));
            });
  }

  /**
   * Past the pivot: waits for the retry-only actions, then marks the saga done or hands over. The
   * saga's deadline no longer matters (it is committed): when it passed while the body was waiting
   * for a retry-only step, the body's own value is awaited (at most a phase timeout after the last
   * retry-only action) and returned.
   */
  private <T> Future<T> forward(SagaTransactionImpl tx, AsyncResult<T> ran, Future<T> body) {
    String gid = tx.globalId();
    return tx.awaitRetryOnly()
        .compose(
            v -> {
              List<SagaTransactionImpl.Logged> pending = tx.retryOnlyPending();
              if (pending.isEmpty()) {
                core.doneMarks().add(gid);
                core.metrics().outcome(SAGA.mode(), gid, "committed");
                if (ran.succeeded()) {
                  return Future.succeededFuture(ran.result());
                }
                return bounded(body)
                    .transform(
                        value ->
                            value.succeeded()
                                ? Future.succeededFuture(value.result())
                                : Future.<T>failedFuture(
                                    committedButBodyFailed(gid, value.cause())));
              }
              return pendingCommit(tx, ran);
            });
  }

  private <T> Future<T> bounded(Future<T> body) {
    if (body == null) {
      return Future.failedFuture(new ShardkitException("the body never ran"));
    }
    if (body.isComplete()) {
      return body;
    }
    io.vertx.core.Promise<T> promise = io.vertx.core.Promise.promise();
    long timer =
        vertx.setTimer(
            options.phaseTimeout().toMillis(),
            id ->
                promise.tryFail(
                    new ShardkitException(
                        "the body did not complete within "
                            + options.phaseTimeout()
                            + " after its last retry-only step")));
    body.onComplete(
        ar -> {
          vertx.cancelTimer(timer);
          if (ar.succeeded()) {
            promise.tryComplete(ar.result());
          } else {
            promise.tryFail(ar.cause());
          }
        });
    return promise.future();
  }

  private static TransactionCommittedException committedButBodyFailed(String gid, Throwable cause) {
    return new TransactionCommittedException(
        gid,
        "its body failed after the pivot (every retry-only step is done; nothing is undone)",
        cause);
  }

  /** Retry-only steps still failing at the end of the budget: recovery finishes them. */
  private <T> Future<T> pendingCommit(SagaTransactionImpl tx, AsyncResult<T> ran) {
    String gid = tx.globalId();
    tx.progress.secondPhasePending = true;
    handOver(gid);
    core.metrics().outcome(SAGA.mode(), gid, "pending_commit");
    List<String> ids = new ArrayList<>();
    for (SagaTransactionImpl.Logged e : tx.retryOnlyPending()) {
      ids.add(e.branch().branchId());
    }
    // committed (past its pivot): recovery runs the retry-only steps left
    LOG.log(
        System.Logger.Level.INFO,
        "saga " + gid + " committed; recovery finishes its retry-only steps " + ids);
    return ran.succeeded()
        ? Future.succeededFuture(ran.result())
        : Future.failedFuture(committedButBodyFailed(gid, ran.cause()));
  }

  private void handOver(String gid) {
    Detached.run(
        vertx,
        ScopeOptions.builder().globalId(gid).timeout(options.phaseTimeout()).build(),
        () -> core.log().handOver(gid));
  }

  /**
   * Recovery of one claimed SAGA row: CANCEL → compensate every compensatable step in reverse log
   * order; COMMIT → run the retry-only steps' actions in log order. Completes with whether the saga
   * is finished (the caller marks it done).
   */
  Future<Boolean> recover(CoordinatorLog.Claimed claimed, List<Completion.Target> targets) {
    boolean commit = claimed.state() == Sql.COMMIT;
    List<Completion.Target> chosen = new ArrayList<>();
    for (Completion.Target t : targets) {
      boolean retryOnly = claimed.retryOnly().contains(t.branch().branchId());
      if (retryOnly == commit) {
        chosen.add(t);
      }
    }
    if (!commit) {
      Collections.reverse(chosen);
    }
    return core.completion()
        .driveInOrder(chosen, commit ? Sql.TRY : Sql.CANCEL, SAGA, options.phaseTimeout())
        .map(List::isEmpty);
  }

  private static <T> Future<T> abandoned(String gid) {
    return Future.failedFuture(
        new ShardkitException("saga " + gid + ": coordinator abandoned it (test hook)"));
  }
}
