package io.shardkit.tx;

import io.shardkit.router.ShardedPool;
import io.shardkit.tx.impl.tcc.LocalParticipants;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Set;

/**
 * The TCC actions this process runs on its own shards, each phase fenced: a {@link TccParticipant}
 * that dispatches a branch to the action registered under its name. A coordinator has one for its
 * local actions ({@link Transactions#participants()}); a service that only takes part in other
 * services' transactions creates one and serves it over gRPC ({@code
 * io.shardkit.tx.grpc.TccGrpc#bind}).
 *
 * <h2>The fence</h2>
 *
 * Every data source of the pool holds a fence table ({@link TccOptions#fenceTable()}) keyed by
 * (global id, branch id, phase). Each phase inserts its row first, in the same local transaction as
 * its business statements, so the row exists exactly when the statements committed:
 *
 * <ul>
 *   <li>try: its row is new → run the try; it exists because a cancel wrote it → refused ({@link
 *       TccTryRefusedException}); it exists from an earlier try → {@link
 *       TccPhaseOutcome#DUPLICATE};
 *   <li>confirm: its row exists → {@code DUPLICATE}; else run the confirm (the try row must exist);
 *   <li>cancel: writes the try row itself when absent (so a late try is refused) and its own row;
 *       its own row exists → {@code DUPLICATE}; the try row was absent → {@link
 *       TccPhaseOutcome#EMPTY_ROLLBACK}, nothing runs; else run the cancel.
 * </ul>
 *
 * Rows older than {@link TccOptions#fenceRetention()} are removed by {@link #cleanFence()}. The
 * module README explains why concurrent phases of one branch cannot deadlock on the fence.
 */
public interface TccParticipants extends TccParticipant {

  /**
   * Local participants on {@code pool}'s shards.
   *
   * @param vertx the Vert.x instance phases run on
   * @param pool the shards; phases run on {@link ShardedPool#pool(String)} connections
   * @param options timeouts, table names and meters
   */
  static TccParticipants create(Vertx vertx, ShardedPool pool, TccOptions options) {
    return LocalParticipants.create(vertx, pool, options);
  }

  /**
   * Registers a local action under its name.
   *
   * @throws io.shardkit.context.ConfigurationException if the action is a remote reference, its
   *     name is taken, or its logical table is unknown to the pool's rules
   */
  <A> TccParticipants register(TccAction<A> action);

  /**
   * Registers a local saga step under its name: its action is served as a try and its compensation
   * as a cancel, with the same fence (so a remote coordinator can run it as a saga step).
   *
   * @throws io.shardkit.context.ConfigurationException if the step is a remote reference, its name
   *     is taken, or its logical table is unknown to the pool's rules
   */
  <A> TccParticipants register(SagaStep<A, ?> step);

  /** The names of the registered actions. */
  Set<String> actions();

  /** Creates the fence table on every data source if it does not exist. */
  Future<Void> setup();

  /**
   * Deletes fence rows older than {@link TccOptions#fenceRetention()} on every reachable data
   * source, in small batches that take no gap locks.
   *
   * @return the number of rows deleted
   */
  Future<Integer> cleanFence();
}
