package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ConfigurationException;
import io.shardkit.context.Deadline;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.SagaTransaction;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TransactionRolledBackException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One saga on its scope's context: steps, their batched log writes (one in flight at a time, in
 * order, exactly as TCC branches) and their actions; the pivot of retry-only steps.
 */
final class SagaTransactionImpl implements SagaTransaction {

  /** A step whose log write was attempted. */
  record Logged(
      TccBranch branch, TccParticipant participant, boolean retryOnly, Promise<Void> written) {}

  private final SagaCoordinatorImpl coordinator;
  private final String gid;
  private final Context context;
  private final Deadline deadline;

  /** What the caller hears if the deadline comes before the coordinator is done. */
  final DeadlineAnswer.Progress progress;

  final io.shardkit.tx.impl.Hooks hooks;
  private final List<Logged> logged = new ArrayList<>();
  private final List<Future<?>> actions = new ArrayList<>();
  private final List<Future<?>> retryOnlyActions = new ArrayList<>();
  private final Set<String> retryOnlyDone = Collections.synchronizedSet(new HashSet<>());
  private final Map<String, Throwable> failures =
      Collections.synchronizedMap(new LinkedHashMap<>());
  private List<Logged> queued = new ArrayList<>();
  private Future<Void> logChain = Future.succeededFuture();
  private boolean flushScheduled;
  private boolean firstWritten;
  private boolean closed;
  private String pivotStep; // the first retry-only step called (in memory)
  private boolean pivotAttempted; // a log write carrying the pivot was sent
  private volatile boolean pivotLogged; // ... and succeeded: the saga is committed
  private int nextBranch;

  SagaTransactionImpl(
      SagaCoordinatorImpl coordinator,
      String gid,
      Context context,
      Deadline deadline,
      io.shardkit.tx.impl.Hooks hooks) {
    this.coordinator = coordinator;
    this.gid = gid;
    this.context = context;
    this.deadline = deadline;
    this.progress =
        new DeadlineAnswer.Progress(
            deadline,
            () ->
                new io.shardkit.tx.TransactionOutcomeUnknownException(
                    gid,
                    "decide",
                    new io.shardkit.context.ShardkitException(
                        "the saga's decision was still being written at its deadline (the"
                            + " coordinator log decides; recovery finishes it)")),
            () ->
                new io.shardkit.tx.TransactionCommittedException(
                    gid,
                    "its body had not returned by the deadline (past its pivot, the saga goes on"
                        + " forward)",
                    new io.shardkit.context.ShardkitException("no value by the deadline")));
    this.hooks = hooks;
  }

  @Override
  public String globalId() {
    return gid;
  }

  @Override
  public void onCommit(Runnable hook) {
    hooks.onCommit(hook);
  }

  @Override
  public void onRollback(Runnable hook) {
    hooks.onRollback(hook);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <R> Future<R> step(String name, Object argument) {
    SagaStep<Object, R> step = (SagaStep<Object, R>) coordinator.step(name);
    if (step == null) {
      return Future.failedFuture(
          new ConfigurationException(
              "steps." + name, "no saga step is registered under this name"));
    }
    return step(step, argument);
  }

  @Override
  public <A, R> Future<R> step(SagaStep<A, R> step, A argument) {
    if (Vertx.currentContext() != context) {
      Promise<R> promise = Promise.promise();
      context.runOnContext(v -> step(step, argument).onComplete(promise));
      return promise.future();
    }
    if (closed) {
      return Future.failedFuture(
          new ShardkitException(
              "saga "
                  + gid
                  + ": cannot run step "
                  + step.name()
                  + ", the saga body has completed and it is deciding"));
    }
    TccParticipant participant = coordinator.core().participantFor(step.name());
    if (participant == null) {
      return Future.failedFuture(
          new ConfigurationException(
              "steps." + step.name(),
              "not registered: register the step (or a participant for it) on the coordinator"));
    }
    boolean retryOnly = step.isRetryOnly();
    // a step this process runs itself (a remote reference may be served by any participant)
    LocalParticipants own =
        step.isLocal() && participant instanceof LocalParticipants local ? local : null;
    if (own != null) {
      Protocol registered = own.protocolOf(step.name());
      if (registered != Protocol.SAGA) {
        return Future.failedFuture(
            new ConfigurationException(
                "steps." + step.name(), "registered as a TCC action, not as a saga step"));
      }
    }
    if (!retryOnly && pivotStep != null) {
      return Future.failedFuture(
          new ShardkitException(
              "saga "
                  + gid
                  + ": step "
                  + step.name()
                  + " is compensatable but the saga is past its pivot (retry-only step "
                  + pivotStep
                  + " was called): only retry-only steps may follow, the saga can only go"
                  + " forward"));
    }
    TccBranch branch;
    try {
      JsonObject args = step.codec().encode(argument);
      if (args == null) {
        throw new NullPointerException("the codec of " + step.name() + " encoded null");
      }
      branch = new TccBranch(gid, Integer.toString(++nextBranch), step.name(), args);
      if (own != null) {
        own.checkAvailable(step, argument); // open breaker: refused before I/O
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    Logged entry = new Logged(branch, participant, retryOnly, Promise.promise());
    boolean ownStep = own != null;
    Future<R> done;
    if (!retryOnly) {
      enqueue(entry);
      done =
          entry
              .written()
              .future()
              .compose(v -> coordinator.<R>invoke(participant, branch, ownStep));
      actions.add(done);
    } else {
      pivotStep = step.name();
      // The pivot commits the saga: only once every step called before it has succeeded.
      List<Future<?>> earlier = new ArrayList<>(actions);
      done =
          Future.all(earlier)
              .transform(
                  ar -> {
                    if (ar.failed()) {
                      return Future.failedFuture(
                          new ShardkitException(
                              "saga "
                                  + gid
                                  + ": retry-only step "
                                  + step.name()
                                  + " not run: an earlier step failed ("
                                  + ar.cause().getMessage()
                                  + "), the saga is compensated",
                              ar.cause()));
                    }
                    if (closed) {
                      return Future.failedFuture(
                          new ShardkitException(
                              "saga "
                                  + gid
                                  + ": retry-only step "
                                  + step.name()
                                  + " not run: the saga is already deciding"));
                    }
                    enqueue(entry);
                    return entry.written().future();
                  })
              .compose(
                  v -> {
                    pivotLogged = true;
                    return coordinator.<R>forward(participant, branch, ownStep);
                  })
              .andThen(
                  ar -> {
                    if (ar.succeeded()) {
                      retryOnlyDone.add(branch.branchId());
                    }
                  });
      actions.add(done);
      retryOnlyActions.add(done);
    }
    done.onFailure(failure -> failures.putIfAbsent(branch.branchId() + ":" + step.name(), failure));
    return done;
  }

  private void enqueue(Logged entry) {
    queued.add(entry);
    if (!flushScheduled) {
      flushScheduled = true;
      // Steps called in the same event-loop turn share one log write.
      context.runOnContext(v -> flush());
    }
  }

  private void flush() {
    flushScheduled = false;
    if (queued.isEmpty()) {
      return;
    }
    List<Logged> batch = queued;
    queued = new ArrayList<>();
    logged.addAll(batch);
    boolean first = !firstWritten;
    firstWritten = true;
    List<TccBranch> branches = new ArrayList<>();
    Set<String> retryOnly = new HashSet<>();
    for (Logged e : batch) {
      branches.add(e.branch());
      if (e.retryOnly()) {
        retryOnly.add(e.branch().branchId());
        pivotAttempted = true;
      }
    }
    logChain =
        logChain.transform(
            ignored ->
                coordinator
                    .core()
                    .log()
                    .writeBranches(
                        gid, Protocol.SAGA, first, deadline.remaining(), branches, retryOnly));
    logChain.onComplete(
        written -> {
          for (Logged e : batch) {
            if (written.succeeded()) {
              e.written().tryComplete();
            } else {
              e.written()
                  .tryFail(
                      new ShardkitException(
                          "saga "
                              + gid
                              + ": could not log step "
                              + e.branch().branchId()
                              + " ("
                              + e.branch().action()
                              + ") before its action",
                          written.cause()));
            }
          }
        });
  }

  /** Waits for every step called so far; fails as soon as one fails. */
  Future<Void> awaitSteps() {
    flush();
    return Future.all(new ArrayList<>(actions)).mapEmpty();
  }

  /** Closes the saga to new steps; completes once the last log write settled (either way). */
  Future<Void> close() {
    closed = true;
    flush();
    return logChain.transform(ignored -> Future.succeededFuture());
  }

  boolean pivotLogged() {
    return pivotLogged;
  }

  boolean pivotAttempted() {
    return pivotAttempted;
  }

  List<Logged> logged() {
    return List.copyOf(logged);
  }

  /** Waits for every retry-only action (each ends done or out of budget). */
  Future<Void> awaitRetryOnly() {
    return Future.join(new ArrayList<>(retryOnlyActions))
        .transform(ignored -> Future.succeededFuture());
  }

  /** Retry-only steps logged and not known to be done. */
  List<Logged> retryOnlyPending() {
    List<Logged> pending = new ArrayList<>();
    for (Logged e : logged) {
      if (e.retryOnly() && !retryOnlyDone.contains(e.branch().branchId())) {
        pending.add(e);
      }
    }
    return pending;
  }

  /** The error the caller gets when the saga is compensated because of {@code cause}. */
  TransactionRolledBackException rolledBack(Throwable cause) {
    Map<String, Throwable> causes;
    synchronized (failures) {
      causes = new LinkedHashMap<>(failures);
    }
    String phase;
    String message;
    if (cause instanceof ShardkitTimeoutException) {
      phase = "action";
      Map<String, Throwable> withDeadline = new LinkedHashMap<>();
      withDeadline.put("deadline", cause);
      withDeadline.putAll(causes);
      causes = withDeadline;
      message = "the deadline passed before the saga finished; its steps were compensated";
    } else if (!causes.isEmpty() && causes.containsValue(cause)) {
      phase = "action";
      Map.Entry<String, Throwable> first = causes.entrySet().iterator().next();
      message =
          "step "
              + first.getKey()
              + " failed ("
              + first.getValue().getMessage()
              + "); the steps before it were compensated in reverse order";
    } else {
      phase = "execute";
      Map<String, Throwable> withBody = new LinkedHashMap<>();
      withBody.put("execute", cause);
      withBody.putAll(causes);
      causes = withBody;
      message = "the saga body failed (" + cause.getMessage() + "); its steps were compensated";
    }
    return new TransactionRolledBackException(gid, phase, causes, message);
  }
}
