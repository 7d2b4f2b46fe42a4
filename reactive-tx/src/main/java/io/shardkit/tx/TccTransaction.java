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
}
