package io.shardkit.router.impl.execute;

import io.shardkit.router.spi.ShardTransaction;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Transaction;

/**
 * A {@link ShardTransaction} seen as Vert.x's {@link Transaction}; outcomes on the caller. The
 * connection stays in the transaction until its owner calls {@link #commit()} or {@link
 * #rollback()}: a transaction the deadline rolled back keeps failing its statements until then,
 * rather than letting them run outside any transaction.
 *
 * <p>Why {@link #completion()} is settled a tick after the owner's answer: owners often close the
 * connection when the completion fires (Vert.x's own TCK does) and still use it in the callback of
 * {@code commit()}; Vert.x's transactions answer {@code commit()} first, and so does this one.
 */
final class TransactionHandle implements Transaction {

  private final ShardTransaction tx;
  private final Promise<Void> completion = Promise.promise();
  private volatile boolean released;

  TransactionHandle(ShardTransaction tx) {
    this.tx = tx;
    tx.completion()
        .onComplete(
            ar -> {
              if (!released) {
                settle(ar); // ended without its owner: the deadline
              }
            });
  }

  ShardTransaction shardTransaction() {
    return tx;
  }

  /** Whether the owner ended the transaction (commit or rollback called). */
  boolean released() {
    return released;
  }

  @Override
  public Future<Void> commit() {
    released = true;
    return answer(tx.commit());
  }

  @Override
  public Future<Void> rollback() {
    released = true;
    return answer(tx.rollback());
  }

  @Override
  public Future<Void> completion() {
    return completion.future();
  }

  private Future<Void> answer(Future<Void> outcome) {
    Future<Void> answer = onCaller(outcome);
    answer.onComplete(
        ar -> {
          Context context = Vertx.currentContext();
          if (context == null) {
            tx.completion().onComplete(this::settle);
          } else {
            context.runOnContext(v -> tx.completion().onComplete(this::settle));
          }
        });
    return answer;
  }

  private void settle(AsyncResult<Void> ar) {
    if (ar.succeeded()) {
      completion.tryComplete();
    } else {
      completion.tryFail(ar.cause());
    }
  }

  private static <T> Future<T> onCaller(Future<T> future) {
    Context caller = Vertx.currentContext();
    return caller == null ? future : StatementRunner.onCaller(caller, future);
  }
}
