package io.shardkit.tx.redis;

import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccPhaseOutcome;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The network between the coordinator and the real Redis participant, with the faults a network
 * has: in 1 of {@code every} calls of each phase, the reply is lost after the phase ran (the
 * coordinator sees a failure and retries or cancels an applied try), the phase is delivered twice
 * at once, or (tries only) the request is held back and delivered 0.3 to 1.5 s later, outside the
 * transaction, after the coordinator gave up on it and usually after its cancel ran (a late action
 * after its compensation). Every call still reaches the real Redis; nothing is mocked.
 */
final class ReorderingParticipant implements TccParticipant {

  private final TccParticipant redis;
  private final int every;
  private final ScheduledExecutorService late = Executors.newSingleThreadScheduledExecutor();
  final Map<String, AtomicInteger> injected = new ConcurrentHashMap<>();
  final Map<String, AtomicInteger> lateOutcomes = new ConcurrentHashMap<>();
  final AtomicInteger lateInFlight = new AtomicInteger();

  ReorderingParticipant(TccParticipant redis, int every) {
    this.redis = redis;
    this.every = every;
  }

  @Override
  public Future<TccPhaseOutcome> tryBranch(TccBranch branch) {
    if (ThreadLocalRandom.current().nextInt(every) == 0) {
      count(injected, "try delivered late");
      long delay = 300 + ThreadLocalRandom.current().nextInt(1200);
      lateInFlight.incrementAndGet();
      late.schedule(
          () ->
              redis
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
          delay,
          TimeUnit.MILLISECONDS);
      return Future.failedFuture(
          new RedisTimeoutException("stock", "injected: try of " + branch.describe() + " delayed"));
    }
    return call("try", branch, redis::tryBranch);
  }

  @Override
  public Future<TccPhaseOutcome> confirm(TccBranch branch) {
    return call("confirm", branch, redis::confirm);
  }

  @Override
  public Future<TccPhaseOutcome> cancel(TccBranch branch) {
    return call("cancel", branch, redis::cancel);
  }

  private Future<TccPhaseOutcome> call(
      String phase,
      TccBranch branch,
      java.util.function.Function<TccBranch, Future<TccPhaseOutcome>> send) {
    int dice = ThreadLocalRandom.current().nextInt(every * 3);
    if (dice == 0) {
      count(injected, phase + " reply lost");
      return send.apply(branch)
          .transform(
              ar ->
                  Future.failedFuture(
                      new RedisTimeoutException(
                          "stock",
                          "injected: reply of " + phase + " " + branch.describe() + " lost")));
    }
    if (dice == 1) {
      count(injected, phase + " delivered twice");
      Future<TccPhaseOutcome> first = send.apply(branch);
      Future<TccPhaseOutcome> second = send.apply(branch);
      Promise<TccPhaseOutcome> both = Promise.promise();
      Future.join(first, second)
          .onComplete(
              ar -> {
                if (first.succeeded()) {
                  both.complete(first.result());
                } else if (second.succeeded()) {
                  both.complete(second.result());
                } else {
                  both.fail(first.cause());
                }
              });
      return both.future();
    }
    return send.apply(branch);
  }

  private static void count(Map<String, AtomicInteger> map, String what) {
    map.computeIfAbsent(what, k -> new AtomicInteger()).incrementAndGet();
  }

  void close() {
    late.shutdown();
  }
}
