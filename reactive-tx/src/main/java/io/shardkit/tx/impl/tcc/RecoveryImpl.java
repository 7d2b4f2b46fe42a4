package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ScopeOptions;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipant;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Recovery rounds: claim due transactions with a lease, drive each to its decision, mark it
 * finished or give it back with a delay; clean fences and the log when due.
 */
final class RecoveryImpl implements TccRecovery {

  private static final System.Logger LOG = System.getLogger(RecoveryImpl.class.getName());

  private enum Result {
    CONFIRMED,
    CANCELLED,
    RETRY
  }

  private final Vertx vertx;
  private final TccCoordinatorImpl coordinator;
  private final TccOptions options;
  private final CoordinatorLog log;
  private long timerId = -1;
  private boolean stopped = true;
  private Future<TccRecoveryReport> current;
  private long lastCleanup;
  private boolean cleanedOnce;

  RecoveryImpl(Vertx vertx, TccCoordinatorImpl coordinator, TccOptions options) {
    this.vertx = vertx;
    this.coordinator = coordinator;
    this.options = options;
    this.log = coordinator.log();
  }

  @Override
  public Future<TccRecoveryReport> runOnce() {
    return inScope(() -> log.claim(options.instanceId(), options.recoveryBatchSize()))
        .compose(
            claimed -> {
              List<Future<Result>> results = new ArrayList<>();
              for (CoordinatorLog.Claimed c : claimed) {
                results.add(recover(c));
              }
              return Future.join(results)
                  .transform(
                      ignored -> {
                        List<String> confirmed = new ArrayList<>();
                        List<String> cancelled = new ArrayList<>();
                        List<String> retry = new ArrayList<>();
                        for (int i = 0; i < claimed.size(); i++) {
                          Result r = results.get(i).succeeded() ? results.get(i).result() : null;
                          String gid = claimed.get(i).gid();
                          if (r == Result.CONFIRMED) {
                            confirmed.add(gid);
                          } else if (r == Result.CANCELLED) {
                            cancelled.add(gid);
                          } else {
                            retry.add(gid);
                          }
                        }
                        coordinator.metrics().recoveryRound(retry.size());
                        return cleanUpIfDue()
                            .map(
                                counts ->
                                    new TccRecoveryReport(
                                        confirmed, cancelled, retry, counts[0], counts[1]));
                      });
            });
  }

  private Future<Result> recover(CoordinatorLog.Claimed claimed) {
    String gid = claimed.gid();
    long claimedAt = System.nanoTime();
    boolean commit = claimed.state() == Sql.COMMIT;
    Protocol protocol = Protocol.fromColumn(claimed.protocol()).orElse(null);
    if (protocol == null) {
      LOG.log(
          System.Logger.Level.WARNING,
          "recovery cannot drive transaction "
              + gid
              + ": its protocol '"
              + claimed.protocol()
              + "' is unknown to this instance");
      return inScope(() -> log.release(gid, options.instanceId(), options.recoveryInterval()))
          .transform(ignored -> Future.succeededFuture(Result.RETRY));
    }
    List<Completion.Target> targets = new ArrayList<>();
    for (TccBranch branch : claimed.branches()) {
      TccParticipant participant = coordinator.participantFor(branch.action());
      if (participant == null) {
        LOG.log(
            System.Logger.Level.WARNING,
            "recovery cannot drive "
                + branch.describe()
                + ": no action or participant registered under that name here");
        return inScope(() -> log.release(gid, options.instanceId(), options.recoveryInterval()))
            .transform(ignored -> Future.succeededFuture(Result.RETRY));
      }
      targets.add(new Completion.Target(branch, participant));
    }
    Future<Boolean> driven =
        switch (protocol) {
          case TCC ->
              coordinator
                  .completion()
                  .drive(targets, commit, options.phaseTimeout())
                  .map(List::isEmpty);
          case SAGA -> coordinator.saga().recover(claimed, targets);
          case XA -> throw new IllegalStateException("XA rows are never claimed: " + gid);
        };
    return driven
        .compose(
            done -> {
              if (!done) {
                return Future.failedFuture("not finished");
              }
              return inScope(() -> log.markDone(List.of(gid)))
                  .map(
                      marked -> {
                        coordinator
                            .metrics()
                            .recoveryLatency(
                                protocol.mode(),
                                java.time.Duration.ofNanos(
                                    Math.max(0, claimed.overdueMicros()) * 1000
                                        + System.nanoTime()
                                        - claimedAt));
                        coordinator
                            .metrics()
                            .recovered(
                                protocol.mode(),
                                String.valueOf(options.logDataSource()),
                                commit ? "commit" : "cancel");
                        return commit ? Result.CONFIRMED : Result.CANCELLED;
                      });
            })
        .recover(
            failure ->
                inScope(() -> log.release(gid, options.instanceId(), options.recoveryInterval()))
                    .transform(ignored -> Future.succeededFuture(Result.RETRY)));
  }

  /** Fence and log clean-up at most once per {@link TccOptions#cleanupInterval()}. */
  private Future<int[]> cleanUpIfDue() {
    long now = System.nanoTime();
    synchronized (this) {
      if (cleanedOnce && now - lastCleanup < options.cleanupInterval().toNanos()) {
        return Future.succeededFuture(new int[] {0, 0});
      }
      cleanedOnce = true;
      lastCleanup = now;
    }
    Future<Integer> fence = coordinator.participants().cleanFence();
    Future<Integer> pruned = inScope(log::prune).recover(t -> Future.succeededFuture(0));
    return Future.join(fence, pruned)
        .transform(
            ignored ->
                Future.succeededFuture(
                    new int[] {
                      fence.succeeded() ? fence.result() : 0,
                      pruned.succeeded() ? pruned.result() : 0
                    }));
  }

  private <T> Future<T> inScope(Supplier<Future<T>> work) {
    return Detached.run(vertx, ScopeOptions.ofTimeout(options.phaseTimeout()), work);
  }

  @Override
  public synchronized TccRecovery start() {
    if (stopped) {
      stopped = false;
      schedule(0);
    }
    return this;
  }

  private synchronized void schedule(long delayMillis) {
    if (stopped) {
      return;
    }
    timerId = vertx.setTimer(Math.max(1, delayMillis), id -> round());
  }

  private void round() {
    Future<TccRecoveryReport> round;
    synchronized (this) {
      if (stopped) {
        return;
      }
      timerId = -1;
      round = runOnce();
      current = round;
    }
    round.onComplete(
        outcome -> {
          if (outcome.failed()) {
            LOG.log(System.Logger.Level.DEBUG, "TCC recovery round failed: " + outcome.cause());
          }
          schedule(options.recoveryInterval().toMillis());
        });
  }

  @Override
  public Future<Void> stop() {
    Future<TccRecoveryReport> inProgress;
    synchronized (this) {
      stopped = true;
      if (timerId >= 0) {
        vertx.cancelTimer(timerId);
        timerId = -1;
      }
      inProgress = current;
    }
    return inProgress == null
        ? Future.succeededFuture()
        : inProgress.transform(ignored -> Future.succeededFuture());
  }

  /** For messages. */
  @Override
  public String toString() {
    return "TccRecovery[" + options.instanceId() + ", every " + options.recoveryInterval() + "]";
  }
}
