package io.shardkit.tx;

import io.vertx.core.Future;

/**
 * One saga, handed to the body of {@link Transactions#saga}. Its global id is also in the Vert.x
 * context ({@code TxScope.current()}) for the whole body.
 */
public interface SagaTransaction {

  /** The global transaction id. */
  String globalId();

  /**
   * Runs a step: the step (name, argument as JSON, whether it is retry-only) is appended to the
   * coordinator log before its action starts, so recovery can compensate it (or, for a retry-only
   * step, finish it) whatever happens next. Steps called in the same event-loop turn share one log
   * write and run in parallel; call the next step from the previous one's future to run them in
   * sequence.
   *
   * <p>A compensatable step whose action fails makes the saga fail: every logged step is
   * compensated in reverse order (its own compensation finds nothing to undo). A {@linkplain
   * SagaStep.Builder#retryOnly() retry-only} step first waits for every step called before it to
   * succeed, then moves the saga past its pivot in the same log write that appends it (the saga is
   * then committed: it only goes forward) and is retried until it succeeds; a compensatable step
   * called after it is refused.
   *
   * @return the action's result; fails with the action's error, with {@link TccTryRefusedException}
   *     if the saga was already compensating the step, or with a {@link
   *     io.shardkit.context.ShardkitException} if the step is not registered, is compensatable and
   *     called after a retry-only step, or the saga is already deciding
   */
  <A, R> Future<R> step(SagaStep<A, R> step, A argument);

  /**
   * {@link #step(SagaStep, Object)} by the registered name: the argument must be of the step's
   * argument type (a mismatch fails the returned future).
   */
  <R> Future<R> step(String name, Object argument);

  /**
   * Runs once, on the context that started the saga, after it committed (body succeeded, or a
   * retry-only step passed its pivot), before the saga's future completes. A throw is logged and
   * counted; the outcome stands.
   */
  void onCommit(Runnable hook);

  /** Runs once, like {@link #onCommit}, after the saga was compensated. */
  void onRollback(Runnable hook);
}
