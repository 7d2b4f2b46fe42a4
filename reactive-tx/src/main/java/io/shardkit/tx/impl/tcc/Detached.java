package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxScope;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.util.function.Supplier;

/**
 * Runs work in a top-level scope, detached from whatever scope the caller is in.
 *
 * <p>Why: once a TCC transaction has decided, its confirms and cancels must run to the end even
 * though the transaction's own scope is closed (often because its deadline passed: that is why it
 * is cancelling) and even if the caller's enclosing request scope closes. A scope opened from a
 * context that carries a scope would be nested in it and share its deadline, so the work is started
 * from the root (event-loop) context underneath the current one, which never carries a scope. Each
 * detached scope still has its own deadline: nothing runs unbounded. This is the only class of the
 * TCC implementation that touches Vert.x internals.
 */
final class Detached {

  private Detached() {}

  static <T> Future<T> run(Vertx vertx, ScopeOptions options, Supplier<Future<T>> body) {
    ContextInternal root = ((ContextInternal) vertx.getOrCreateContext()).unwrap();
    Promise<T> promise = root.promise();
    root.runOnContext(v -> TxScope.run(vertx, options, body).onComplete(promise));
    return promise.future();
  }
}
