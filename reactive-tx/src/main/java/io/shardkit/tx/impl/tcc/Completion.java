package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ScopeOptions;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccPhaseOutcome;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Drives a decision (confirm or cancel) on branches: all branches in parallel, each attempt in its
 * own detached scope bounded by {@link TccOptions#phaseTimeout()}, failed attempts repeated with
 * exponential backoff until the budget ends. What is still failing then is returned, for the caller
 * to hand over to recovery.
 */
final class Completion {

  /** A branch and the participant that runs it. */
  record Target(TccBranch branch, TccParticipant participant) {}

  private static final System.Logger LOG = System.getLogger(Completion.class.getName());

  private final Vertx vertx;
  private final TccOptions options;
  private final TccMetrics metrics;

  Completion(Vertx vertx, TccOptions options, TccMetrics metrics) {
    this.vertx = vertx;
    this.options = options;
    this.metrics = metrics;
  }

  /**
   * @param commit confirm (true) or cancel (false)
   * @param budget how long to keep retrying
   * @return the branch ids still not done when the budget ended (empty: all done)
   */
  Future<List<String>> drive(List<Target> targets, boolean commit, Duration budget) {
    return drive(targets, commit ? Sql.CONFIRM : Sql.CANCEL, Protocol.TCC, budget);
  }

  /**
   * Drives one phase ({@link Sql#TRY} for a saga's retry-only actions, {@link Sql#CONFIRM}, {@link
   * Sql#CANCEL}) on every target, all in parallel.
   */
  Future<List<String>> drive(List<Target> targets, int phase, Protocol protocol, Duration budget) {
    long end = System.nanoTime() + budget.toNanos();
    List<Future<Boolean>> all = new ArrayList<>();
    for (Target target : targets) {
      Promise<Boolean> done = Promise.promise();
      attempt(target, phase, protocol, end, options.retryInitialDelay().toMillis(), done);
      all.add(done.future());
    }
    return Future.join(all)
        .transform(
            ignored -> {
              List<String> pending = new ArrayList<>();
              for (int i = 0; i < targets.size(); i++) {
                if (!Boolean.TRUE.equals(all.get(i).result())) {
                  pending.add(targets.get(i).branch().branchId());
                }
              }
              return Future.succeededFuture(pending);
            });
  }

  /**
   * Drives one phase on the targets one after another, in list order (a saga's compensations in
   * reverse log order, its retry-only actions in log order): the next starts once the previous is
   * done. Returns the branch ids not done when the budget ended: the one that kept failing and
   * every one after it.
   */
  Future<List<String>> driveInOrder(
      List<Target> targets, int phase, Protocol protocol, Duration budget) {
    long end = System.nanoTime() + budget.toNanos();
    Promise<List<String>> result = Promise.promise();
    next(targets, 0, phase, protocol, end, result);
    return result.future();
  }

  private void next(
      List<Target> targets,
      int index,
      int phase,
      Protocol protocol,
      long end,
      Promise<List<String>> result) {
    if (index == targets.size()) {
      result.complete(List.of());
      return;
    }
    Promise<Boolean> done = Promise.promise();
    attempt(targets.get(index), phase, protocol, end, options.retryInitialDelay().toMillis(), done);
    done.future()
        .onComplete(
            ok -> {
              if (Boolean.TRUE.equals(ok.result())) {
                next(targets, index + 1, phase, protocol, end, result);
              } else {
                List<String> pending = new ArrayList<>();
                for (Target t : targets.subList(index, targets.size())) {
                  pending.add(t.branch().branchId());
                }
                result.complete(pending);
              }
            });
  }

  /**
   * Runs {@code operation} (idempotent) until it succeeds or {@code budget} ends, each attempt in a
   * detached scope of at most {@link TccOptions#phaseTimeout()}; fails with the last failure.
   */
  <T> Future<T> retry(String gid, Duration budget, Supplier<Future<T>> operation, String what) {
    Promise<T> result = Promise.promise();
    retry(
        gid,
        System.nanoTime() + budget.toNanos(),
        operation,
        what,
        options.retryInitialDelay().toMillis(),
        result);
    return result.future();
  }

  private <T> void retry(
      String gid,
      long end,
      Supplier<Future<T>> operation,
      String what,
      long delayMillis,
      Promise<T> result) {
    long left = end - System.nanoTime();
    Duration timeout =
        Duration.ofNanos(Math.max(1_000_000, Math.min(left, options.phaseTimeout().toNanos())));
    Detached.run(vertx, ScopeOptions.builder().globalId(gid).timeout(timeout).build(), operation)
        .onComplete(
            outcome -> {
              if (outcome.succeeded()) {
                result.complete(outcome.result());
              } else if (end - System.nanoTime() <= TimeUnit.MILLISECONDS.toNanos(delayMillis)) {
                result.fail(outcome.cause());
              } else {
                LOG.log(
                    System.Logger.Level.DEBUG,
                    what + " of " + gid + " failed, retrying: " + outcome.cause());
                long next = Math.min(delayMillis * 2, options.retryMaxDelay().toMillis());
                vertx.setTimer(delayMillis, id -> retry(gid, end, operation, what, next, result));
              }
            });
  }

  private void attempt(
      Target target,
      int phase,
      Protocol protocol,
      long end,
      long delayMillis,
      Promise<Boolean> done) {
    long left = end - System.nanoTime();
    if (left <= TimeUnit.MILLISECONDS.toNanos(1)) {
      done.complete(false);
      return;
    }
    TccBranch branch = target.branch();
    Duration timeout = Duration.ofNanos(Math.min(left, options.phaseTimeout().toNanos()));
    ScopeOptions scope =
        ScopeOptions.builder()
            .globalId(branch.globalId())
            .branchId(branch.branchId())
            .timeout(timeout)
            .build();
    Future<TccPhaseOutcome> call =
        Detached.run(
            vertx,
            scope,
            () ->
                switch (phase) {
                  case Sql.TRY -> target.participant().tryBranch(branch);
                  case Sql.CONFIRM -> target.participant().confirm(branch);
                  default -> target.participant().cancel(branch);
                });
    String phaseName =
        protocol == Protocol.SAGA
            ? (phase == Sql.TRY ? "action" : "compensation")
            : Sql.phaseName(phase);
    call.onComplete(
        outcome -> {
          if (outcome.succeeded()) {
            done.complete(true);
            return;
          }
          long remaining = end - System.nanoTime();
          if (remaining <= TimeUnit.MILLISECONDS.toNanos(delayMillis)) {
            LOG.log(
                System.Logger.Level.DEBUG,
                phaseName
                    + " of "
                    + branch.describe()
                    + " still failing, left to recovery: "
                    + outcome.cause());
            done.complete(false);
            return;
          }
          metrics.retry(protocol.mode(), phaseName);
          long next = Math.min(delayMillis * 2, options.retryMaxDelay().toMillis());
          vertx.setTimer(delayMillis, id -> attempt(target, phase, protocol, end, next, done));
        });
  }
}
