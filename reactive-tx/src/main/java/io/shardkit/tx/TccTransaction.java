package io.shardkit.tx;

import io.vertx.core.Future;

/**
 * One TCC global transaction, handed to the body of {@link Transactions#tcc}. Its global id is also
 * in the Vert.x context ({@code TxScope.current()}) for the whole body.
 */
public interface TccTransaction {

  /** The global transaction id. */
  String globalId();

  /**
   * Adds a branch and runs its try. The branch (action name and argument as JSON) is written to the
   * coordinator log before the try starts, so that recovery can cancel or confirm it whatever
   * happens next. Tries of several enlisted branches run in parallel when the body does not wait
   * between the calls; log writes of enlistments made together are batched.
   *
   * <p>The body need not wait for the returned future: the coordinator waits for every try before
   * deciding. A failed try cancels the whole transaction (every branch, including the failed one).
   *
   * @return completes when the try committed (or was a duplicate); fails with the try's error, with
   *     {@link TccTryRefusedException}, or with a {@link io.shardkit.context.ShardkitException} if
   *     the transaction is already deciding or the action is not registered
   */
  <A> Future<Void> enlist(TccAction<A> action, A argument);

  /**
   * Registers a callback that runs once, on the context that started the transaction, after the
   * COMMIT decision is durable (also when some confirms are left to recovery), before the
   * transaction's future completes. A throw is logged and counted ({@code
   * shardkit.tx.hook.failures}, {@code mode=tcc}); it never turns the commit into a failure.
   */
  void onCommit(Runnable hook);

  /**
   * Registers a callback that runs once, like {@link #onCommit}, after the transaction was
   * cancelled (any reason). Neither hook runs when the outcome is unknown.
   */
  void onRollback(Runnable hook);
}
