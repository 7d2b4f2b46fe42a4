package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ConfigurationException;
import io.shardkit.context.Deadline;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccTransaction;
import io.shardkit.tx.TransactionRolledBackException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The try phase of one global transaction, on the transaction scope's context: enlisted branches,
 * their batched log writes (one in flight at a time, in order) and their tries.
 */
final class TccTransactionImpl implements TccTransaction {

  /** A branch whose log write was attempted, and the participant that runs it. */
  record Enlisted(TccBranch branch, TccParticipant participant, Promise<Void> logged) {}

  private final TccCoordinatorImpl coordinator;
  private final String gid;
  private final Context context;
  private final Deadline deadline;

  /** What the caller hears if the deadline comes before the coordinator is done. */
  final DeadlineAnswer.Progress progress;

  private final List<Enlisted> logged = new ArrayList<>();
  private final List<Future<Void>> tries = new ArrayList<>();
  private final Map<String, Throwable> tryFailures =
      Collections.synchronizedMap(new LinkedHashMap<>());
  private List<Enlisted> queued = new ArrayList<>();
  private Future<Void> logChain = Future.succeededFuture();
  private boolean flushScheduled;
  private boolean firstWritten;
  private boolean closed;

  private int nextBranch;

  final io.shardkit.tx.impl.Hooks hooks;

  TccTransactionImpl(
      TccCoordinatorImpl coordinator,
      String gid,
      Context context,
      Deadline deadline,
      io.shardkit.tx.impl.Hooks hooks) {
    this.hooks = hooks;
    this.coordinator = coordinator;
    this.gid = gid;
    this.context = context;
    this.deadline = deadline;
    this.progress =
        new DeadlineAnswer.Progress(
            deadline,
            () ->
                new io.shardkit.tx.TccOutcomeUnknownException(
                    gid,
                    "the COMMIT decision was still being written at the deadline (the coordinator"
                        + " log decides; recovery finishes it)",
                    null),
            () -> new IllegalStateException("a committed TCC transaction always has its value"));
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
  public <A> Future<Void> enlist(TccAction<A> action, A argument) {
    if (Vertx.currentContext() != context) {
      Promise<Void> promise = Promise.promise();
      context.runOnContext(v -> enlist(action, argument).onComplete(promise));
      return promise.future();
    }
    if (closed) {
      return Future.failedFuture(
          new ShardkitException(
              "transaction "
                  + gid
                  + ": cannot enlist "
                  + action.name()
                  + ", the transaction body has completed and it is deciding"));
    }
    TccParticipant participant = coordinator.participantFor(action.name());
    if (participant == null) {
      return Future.failedFuture(
          new ConfigurationException(
              "actions." + action.name(),
              "not registered: register it (or a participant for it) on the coordinator"));
    }
    TccBranch branch;
    try {
      JsonObject args = action.codec().encode(argument);
      if (args == null) {
        throw new NullPointerException("the codec of " + action.name() + " encoded null");
      }
      branch = new TccBranch(gid, Integer.toString(++nextBranch), action.name(), args);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    if (participant instanceof LocalParticipants localParticipants) {
      try {
        localParticipants.checkAvailable(action, argument); // open breaker: refused before I/O
      } catch (RuntimeException open) {
        return Future.failedFuture(open);
      }
    }
    Enlisted enlisted = new Enlisted(branch, participant, Promise.promise());
    queued.add(enlisted);
    if (!flushScheduled) {
      flushScheduled = true;
      // Enlistments made in the same event-loop turn share one log write.
      context.runOnContext(v -> flush());
    }
    Future<Void> tried =
        enlisted
            .logged()
            .future()
            .compose(v -> participant.tryBranch(branch))
            .<Void>mapEmpty()
            .onFailure(failure -> tryFailures.putIfAbsent(key(branch), failure));
    tries.add(tried);
    return tried;
  }

  private void flush() {
    flushScheduled = false;
    if (queued.isEmpty()) {
      return;
    }
    List<Enlisted> batch = queued;
    queued = new ArrayList<>();
    logged.addAll(batch);
    boolean first = !firstWritten;
    firstWritten = true;
    List<TccBranch> branches = new ArrayList<>();
    for (Enlisted e : batch) {
      branches.add(e.branch());
    }
    logChain =
        logChain.transform(
            ignored -> coordinator.log().writeBranches(gid, first, deadline.remaining(), branches));
    logChain.onComplete(
        written -> {
          for (Enlisted e : batch) {
            if (written.succeeded()) {
              e.logged().tryComplete();
            } else {
              e.logged()
                  .tryFail(
                      new ShardkitException(
                          "transaction "
                              + gid
                              + ": could not log branch "
                              + e.branch().branchId()
                              + " ("
                              + e.branch().action()
                              + ") before its try",
                          written.cause()));
            }
          }
        });
  }

  /** Closes the transaction to new branches and waits for every try; fails as soon as one fails. */
  Future<Void> awaitTries() {
    closed = true;
    flush();
    return Future.all(new ArrayList<>(tries)).mapEmpty();
  }

  /** Branches whose log write was attempted: the ones a decision applies to. */
  List<Enlisted> logged() {
    closed = true;
    return List.copyOf(logged);
  }

  /** The error the caller gets when the transaction is cancelled because of {@code cause}. */
  TransactionRolledBackException rolledBack(Throwable cause) {
    Map<String, Throwable> causes;
    synchronized (tryFailures) {
      causes = new LinkedHashMap<>(tryFailures);
    }
    String phase;
    String message;
    if (cause instanceof ShardkitTimeoutException) {
      phase = "try";
      Map<String, Throwable> withDeadline = new LinkedHashMap<>();
      withDeadline.put("deadline", cause);
      withDeadline.putAll(causes);
      causes = withDeadline;
      message = "the deadline passed before every try completed; all branches cancelled";
    } else if (!causes.isEmpty()) {
      phase = "try";
      Map.Entry<String, Throwable> first = causes.entrySet().iterator().next();
      message =
          "try of branch "
              + first.getKey()
              + " failed ("
              + first.getValue().getMessage()
              + "); all branches cancelled";
    } else {
      phase = "execute";
      causes.put("execute", cause);
      message = "the transaction body failed (" + cause.getMessage() + "); all branches cancelled";
    }
    return new TransactionRolledBackException(gid, phase, causes, message);
  }

  private static String key(TccBranch branch) {
    return branch.branchId() + ":" + branch.action();
  }
}
