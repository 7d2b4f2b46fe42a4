package io.shardkit.tx.impl;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;

/**
 * Completes futures on a given context: the one place reactive-tx touches {@code ContextInternal}.
 * A caller's callbacks must run on the caller's context whatever context the work finished on (a
 * kept log connection, a shard's connection, a timer).
 */
public final class OnContext {

  private OnContext() {}

  /** The calling context, or a new event-loop context of {@code vertx} outside Vert.x. */
  public static Context callerOrNew(Vertx vertx) {
    Context current = Vertx.currentContext();
    return current != null ? current : vertx.getOrCreateContext();
  }

  /** {@code future}'s outcome, whose callbacks run on {@code context}. */
  public static <T> Future<T> on(Context context, Future<T> future) {
    PromiseInternal<T> promise = ((ContextInternal) context).promise();
    future.onComplete(promise);
    return promise.future();
  }
}
