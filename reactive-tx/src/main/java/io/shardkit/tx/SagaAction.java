package io.shardkit.tx;

import io.vertx.core.Future;

/**
 * The forward action of a {@link SagaStep}: the business statements, run on the connection of the
 * local transaction the step's fence row is written in. Return a failed future (or throw) to roll
 * that local transaction back (nothing of the step is then applied, and the saga is compensated);
 * never commit, roll back or close the connection.
 *
 * @param <A> the argument type
 * @param <R> the result type, handed to the saga's body ({@code null} when the step is found
 *     already applied, e.g. a retry-only step re-run after a timeout)
 */
@FunctionalInterface
public interface SagaAction<A, R> {

  /**
   * Runs the action.
   *
   * @param context the step (global id, branch id, {@code phase()} = {@code "action"}) and the
   *     local transaction's connection
   * @param argument the argument the step was called with (decoded again from the log when recovery
   *     runs a retry-only step)
   */
  Future<R> run(TccPhaseContext context, A argument);
}
