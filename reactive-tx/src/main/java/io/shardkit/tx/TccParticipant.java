package io.shardkit.tx;

import io.vertx.core.Future;

/**
 * The three phases of TCC branches as the coordinator calls them: for actions registered locally
 * ({@link TccParticipants}), or served by another process ({@code io.shardkit.tx.grpc.TccGrpc}), or
 * any transport an application writes itself.
 *
 * <p>The contract every implementation keeps (the local one does it with a fence table written in
 * the phase's own local transaction):
 *
 * <ul>
 *   <li>each phase is idempotent per branch: a repeated call returns {@link
 *       TccPhaseOutcome#DUPLICATE} and changes nothing;
 *   <li>a cancel for a branch whose try never committed does nothing, returns {@link
 *       TccPhaseOutcome#EMPTY_ROLLBACK}, and from then on the try is refused with {@link
 *       TccTryRefusedException} (it must not reserve anything after its cancel);
 *   <li>confirm and cancel may be retried any number of times, by this process or by recovery in
 *       another one.
 * </ul>
 *
 * <p>Calls are made inside a {@code TxScope} carrying the global id, the branch id and the deadline
 * of the call; implementations must stop at that deadline.
 */
public interface TccParticipant {

  /** Reserves: runs the action's try. Fails with {@link TccTryRefusedException} after a cancel. */
  Future<TccPhaseOutcome> tryBranch(TccBranch branch);

  /** Applies what the try reserved. */
  Future<TccPhaseOutcome> confirm(TccBranch branch);

  /** Releases what the try reserved, if it did. */
  Future<TccPhaseOutcome> cancel(TccBranch branch);
}
