package io.shardkit.tx.pg;

import io.shardkit.context.ShardkitException;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccPhaseOutcome;
import io.vertx.core.Future;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The path from the coordinator to the real PostgreSQL participant, with a network's faults once
 * {@link #faulty} is set: one try in {@code every} is held back and delivered 0.3 to 1.5 s later,
 * outside its transaction, after the coordinator gave up on it (and usually after its cancel ran:
 * the late try the fence must refuse); one confirm or cancel in {@code 3 * every} has its reply
 * lost after it ran, another is delivered twice at once. Every call still reaches the real server.
 */
final class LateNetwork implements TccParticipant {

  private final TccParticipant target;
  private final int every;
  volatile boolean faulty;
  final Map<String, AtomicInteger> injected = new ConcurrentHashMap<>();
  final Map<String, AtomicInteger> lateOutcomes = new ConcurrentHashMap<>();
  final AtomicInteger lateInFlight = new AtomicInteger();
  private final java.util.concurrent.ScheduledExecutorService late =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor();

  LateNetwork(TccParticipant target, int every) {
    this.target = target;
    this.every = every;
  }

  @Override
  public Future<TccPhaseOutcome> tryBranch(TccBranch branch) {
    if (faulty && ThreadLocalRandom.current().nextInt(every) == 0) {
      count(injected, "try held back");
      lateInFlight.incrementAndGet();
      // from a thread of its own: a late request arrives from outside the transaction's scope
      late.schedule(
          () ->
              target
                  .tryBranch(branch)
                  .onComplete(
                      ar -> {
                        count(
                            lateOutcomes,
                            ar.succeeded()
                                ? ar.result().name()
                                : ar.cause().getClass().getSimpleName());
                        lateInFlight.decrementAndGet();
                      }),
          300 + ThreadLocalRandom.current().nextInt(1200),
          java.util.concurrent.TimeUnit.MILLISECONDS);
      return Future.failedFuture(
          new ShardkitException("injected: try of " + branch.describe() + " held back"));
    }
    return target.tryBranch(branch);
  }

  @Override
  public Future<TccPhaseOutcome> confirm(TccBranch branch) {
    return call("confirm", branch, target::confirm);
  }

  @Override
  public Future<TccPhaseOutcome> cancel(TccBranch branch) {
    return call("cancel", branch, target::cancel);
  }

  private Future<TccPhaseOutcome> call(
      String phase, TccBranch branch, Function<TccBranch, Future<TccPhaseOutcome>> send) {
    int dice = faulty ? ThreadLocalRandom.current().nextInt(every * 3) : -1;
    if (dice == 0) {
      count(injected, phase + " reply lost");
      return send.apply(branch)
          .transform(
              ar ->
                  Future.failedFuture(
                      new ShardkitException(
                          "injected: reply of " + phase + " " + branch.describe() + " lost")));
    }
    if (dice == 1) {
      count(injected, phase + " delivered twice");
      Future<TccPhaseOutcome> first = send.apply(branch);
      Future<TccPhaseOutcome> second = send.apply(branch);
      return Future.join(first, second)
          .transform(
              ar ->
                  first.succeeded()
                      ? Future.succeededFuture(first.result())
                      : second.succeeded()
                          ? Future.succeededFuture(second.result())
                          : Future.failedFuture(first.cause()));
    }
    return send.apply(branch);
  }

  void close() {
    late.shutdownNow();
  }

  private static void count(Map<String, AtomicInteger> map, String what) {
    map.computeIfAbsent(what, k -> new AtomicInteger()).incrementAndGet();
  }
}
