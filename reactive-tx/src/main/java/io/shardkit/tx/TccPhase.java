package io.shardkit.tx;

import io.vertx.core.Future;

/**
 * One phase (try, confirm or cancel) of a {@link TccAction}: the business statements, run on the
 * connection of the local transaction the fence row is written in. Return a failed future (or
 * throw) to roll that local transaction back; never commit, roll back or close the connection.
 *
 * @param <A> the argument type
 */
@FunctionalInterface
public interface TccPhase<A> {

  /**
   * Runs the phase.
   *
   * @param context the branch and the local transaction's connection
   * @param argument the argument the branch was enlisted with (decoded again from the log when
   *     recovery runs the phase)
   * @return completes when the statements are done
   */
  Future<Void> run(TccPhaseContext context, A argument);
}
