package io.shardkit.benchmarks;

import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;

/** Small helpers shared by the benchmarks. */
final class Bench {

  private Bench() {}

  /** Blocks the (JMH, never an event-loop) thread until {@code future} completes. */
  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }
}
