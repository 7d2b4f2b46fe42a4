package io.shardkit.tx;

import io.shardkit.router.ShardedPool;
import io.shardkit.tx.spi.TccFactory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.function.Function;

/**
 * Runs TCC (try / confirm / cancel) global transactions over a {@link ShardedPool}'s shards and
 * remote participants, with a durable coordinator log and recovery.
 *
 * <p>A transaction ({@link #execute}) opens a {@code TxScope} with a mandatory deadline and a new
 * global id; its body enlists branches ({@link TccTransaction#enlist}), each logged before its try
 * runs. Then:
 *
 * <ul>
 *   <li>body and every try succeeded before the deadline → the COMMIT decision is written to the
 *       log (compare-and-set: it fails if recovery already cancelled the transaction) → every
 *       branch is confirmed, retried with backoff. The returned future succeeds with the body's
 *       value;
 *   <li>a try failed, the body failed, or the deadline passed → the CANCEL decision → every
 *       enlisted branch is cancelled, including the one whose try failed (its fence decides whether
 *       anything is undone). The future fails with {@link TransactionRolledBackException} (phase
 *       {@code try}, {@code execute}, or {@code commit} when recovery had cancelled first);
 *   <li>confirms or cancels still failing after {@link TccOptions#completionTimeout()} → the future
 *       fails with {@link TransactionOutcomePendingException} carrying the decision; recovery
 *       finishes the branches. The decision never changes after it is written.
 * </ul>
 *
 * The returned future completes on the caller's context. Nothing outlives the transaction's
 * deadline except the bounded confirm/cancel attempts of a decided transaction.
 *
 * <p>Create one per application instance, register every action at start-up (recovery finds them by
 * name), call {@link #setup()} once, and run {@link #recovery()} in at least one instance.
 */
public interface TccCoordinator {

  /**
   * A coordinator whose local actions run on {@code pool}'s shards and whose log lives on {@link
   * TccOptions#logDataSource()} of {@code pool}.
   *
   * @throws io.shardkit.context.ConfigurationException if the log data source is not one of the
   *     pool's
   */
  static TccCoordinator create(Vertx vertx, ShardedPool pool, TccOptions options) {
    return TccFactory.load().coordinator(vertx, pool, options);
  }

  /** Registers a local action (see {@link TccParticipants#register}). */
  <A> TccCoordinator register(TccAction<A> action);

  /**
   * Sends the branches of the action named {@code action} to {@code participant}, e.g. a gRPC
   * client of the service that runs it.
   *
   * @throws io.shardkit.context.ConfigurationException if the name is already registered
   */
  TccCoordinator registerParticipant(String action, TccParticipant participant);

  /** Creates the fence table on every data source and the log tables, if they do not exist. */
  Future<Void> setup();

  /** {@link #execute(Duration, Function)} with {@link TccOptions#defaultTimeout()}. */
  <T> Future<T> execute(Function<TccTransaction, Future<T>> body);

  /**
   * Runs a TCC global transaction.
   *
   * @param timeout the deadline of the try phase (body and tries), mandatory; inside an enclosing
   *     scope the earlier deadline applies
   * @param body enlists branches; its future's value is the transaction's on commit. A throw or a
   *     failed future cancels the transaction
   * @return see the class documentation
   */
  <T> Future<T> execute(Duration timeout, Function<TccTransaction, Future<T>> body);

  /** The local participants (the fenced actions registered here). */
  TccParticipants participants();

  /** A recovery service for this coordinator's log; see {@link TccRecovery}. */
  TccRecovery recovery();

  /** The options. */
  TccOptions options();
}
