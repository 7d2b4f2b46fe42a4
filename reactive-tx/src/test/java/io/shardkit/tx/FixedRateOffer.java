package io.shardkit.tx;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
import java.util.function.IntFunction;

/**
 * Offers transactions at a fixed rate from an event loop (open loop: a slow answer does not slow
 * the offers) and sorts what their callers heard: committed, refused by admission, failed.
 */
public final class FixedRateOffer {

  private FixedRateOffer() {}

  /** What the callers heard, and the lowest admission limit seen while offering. */
  public record Heard(
      int committed,
      List<TransactionOverloadedException> refused,
      List<Throwable> failed,
      double lowestLimit) {

    /** How many were refused by the limit judged on queueing delay. */
    public long refusedByQueueing() {
      return refused.stream().filter(TransactionOverloadedException::queueing).count();
    }
  }

  /**
   * Starts {@code transaction.apply(i)} every {@code everyMillis} for {@code offeredFor}, reads
   * {@code limit} at each offer, and waits (at most a minute) for every answer.
   */
  public static Heard offer(
      Vertx vertx,
      Duration offeredFor,
      long everyMillis,
      IntFunction<Future<?>> transaction,
      DoubleSupplier limit)
      throws Exception {
    AtomicInteger committed = new AtomicInteger();
    List<TransactionOverloadedException> refused = new CopyOnWriteArrayList<>();
    List<Throwable> failed = new CopyOnWriteArrayList<>();
    double[] lowest = {Double.MAX_VALUE};
    List<Future<?>> answers = new ArrayList<>();
    Promise<Void> offered = Promise.promise();
    vertx.runOnContext(
        v -> {
          long end = System.nanoTime() + offeredFor.toNanos();
          AtomicInteger n = new AtomicInteger();
          vertx.setPeriodic(
              everyMillis,
              id -> {
                if (System.nanoTime() - end >= 0) {
                  vertx.cancelTimer(id);
                  offered.complete();
                  return;
                }
                lowest[0] = Math.min(lowest[0], limit.getAsDouble());
                answers.add(
                    transaction
                        .apply(n.getAndIncrement())
                        .andThen(
                            ar -> {
                              if (ar.succeeded()) {
                                committed.incrementAndGet();
                              } else if (ar.cause()
                                  instanceof TransactionOverloadedException refusal) {
                                refused.add(refusal);
                              } else {
                                failed.add(ar.cause());
                              }
                            }));
              });
        });
    offered.future().toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
    Promise<Void> all = Promise.promise();
    vertx.runOnContext(v -> Future.join(answers).onComplete(ar -> all.complete()));
    all.future().toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
    return new Heard(committed.get(), refused, failed, lowest[0]);
  }
}
