package io.shardkit.router.impl.execute;

import io.shardkit.router.spi.ShardTransaction;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Transaction;

/**
 * A {@link ShardTransaction} seen as Vert.x's {@link Transaction}; outcomes on the caller. The
 * connection stays in the transaction until its owner calls {@link #commit()} or {@link
 * #rollback()}: a transaction the deadline rolled back keeps failing its statements until then,
 * rather than letting them run outside any transaction.
 */
final class TransactionHandle implements Transaction {

  private final ShardTransaction tx;

  TransactionHandle(ShardTransaction tx) {
    this.tx = tx;
  }

  ShardTransaction shardTransaction() {
    return tx;
  }

  private volatile boolean released;

  /** Whether the owner ended the transaction (commit or rollback called). */
  boolean released() {
    return released;
  }

  @Override
  public Future<Void> commit() {
    released = true;
    return onCaller(tx.commit());
  }

  @Override
  public Future<Void> rollback() {
    released = true;
    return onCaller(tx.rollback());
  }

  @Override
  public Future<Void> completion() {
    return onCaller(tx.completion());
  }

  private static <T> Future<T> onCaller(Future<T> future) {
    Context caller = Vertx.currentContext();
    return caller == null ? future : StatementRunner.onCaller(caller, future);
  }
}
