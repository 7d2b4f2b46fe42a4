package io.shardkit.tx;

import io.shardkit.context.ConfigurationException;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.spi.ShardTransaction;
import io.shardkit.router.spi.ShardTransactionManager;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.impl.TransactionsImpl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * The transaction manager of reactive-tx: atomic cross-shard transactions over a {@link
 * ShardedPool} (XA, the default), TCC transactions, their schema and their recovery, from one
 * object per application instance and pool.
 *
 * <p>An atomic transaction is {@code pool.withTransaction(conn -> ...)} on a {@code ShardedPool}
 * built with this manager ({@link #of}): the pool calls {@link #begin}; each shard is enlisted on
 * first use ({@code XA START} on a connection pinned to the transaction), and at the end the
 * transaction commits on every enlisted shard or on none (XA two-phase commit; one-phase when only
 * one shard was enlisted). See the module README for the protocol, the coordinator log and
 * recovery.
 *
 * <p>{@link #tcc} runs a TCC (try / confirm / cancel) transaction with the same shape: options with
 * a timeout, a function returning a future, the same typed outcome exceptions. {@link
 * #installSchema()} creates every table both protocols need and {@link #startRecovery()} starts the
 * recovery of both; any number of application instances may run it on the same shards.
 */
public interface Transactions extends ShardTransactionManager {

  /**
   * Creates the manager. No I/O: call {@link #installSchema()} once (or create the tables the
   * README lists with your migrations), register the TCC actions, and {@link #startRecovery()} in
   * every app instance.
   *
   * @param pool the pool whose data sources hold the coordinator logs ({@link
   *     TransactionsOptions#logDataSource()}) and the TCC fences, and whose shards TCC actions run
   *     on
   * @throws ConfigurationException if the log data source is not one of the pool's
   */
  static Transactions create(Vertx vertx, ShardedPool pool, TransactionsOptions options) {
    return TransactionsImpl.create(vertx, pool, options);
  }

  /**
   * The manager a pool was built with, so that {@code pool.withTransaction(...)} commits atomically
   * across shards:
   *
   * <pre>{@code
   * ShardedPool pool = ShardedPool.builder(vertx).rules(rules).dataSources(...)
   *     .transactionManager(p -> Transactions.create(vertx, p, TransactionsOptions.of("ds_0")))
   *     .build();
   * Transactions transactions = Transactions.of(pool); // installSchema(), startRecovery(), tcc(...)
   * }</pre>
   *
   * @throws IllegalArgumentException if the pool was built without a {@code Transactions} manager
   */
  static Transactions of(ShardedPool pool) {
    if (pool.transactionManager() instanceof Transactions transactions) {
      return transactions;
    }
    throw new IllegalArgumentException(
        "this ShardedPool was built without reactive-tx's transaction manager; build it with"
            + " .transactionManager(p -> Transactions.create(vertx, p, options))");
  }

  /**
   * Starts an atomic transaction of {@code pool} (the seam {@code ShardedPool} calls; see {@link
   * ShardTransactionManager}): a new global id and a deadline {@code timeout} from now (capped by
   * an enclosing scope's). {@link ShardTransaction#clientFor} enlists a data source on first use
   * ({@code XA START} on a connection pinned to the transaction) and hands out that connection;
   * {@link ShardTransaction#commit()} commits in one phase (no log write) when one data source was
   * enlisted, else prepares all, makes the COMMIT decision durable in the coordinator log and
   * commits all. Every future of the transaction completes on the context that called {@code
   * begin}; so do {@code onCommit}/{@code onRollback} hooks, which run once the outcome is final (a
   * COMMIT decision with a branch still pending counts as committed), before {@code commit()} or
   * {@code rollback()} completes. A hook that throws is logged and counted ({@code
   * shardkit.tx.hook.failures}); the outcome stands. {@code commit()} fails with: {@link
   * TransactionRolledBackException} (a prepare failed: nothing was applied anywhere; per data
   * source causes); {@link TransactionOutcomeUnknownException} when the coordinator lost track (see
   * there). When the deadline passes first, the transaction is rolled back at once and later
   * statements and the commit fail with {@link ShardkitTimeoutException}. {@code commit()} succeeds
   * once the COMMIT decision is durable, also when a shard has not applied it yet (recovery will;
   * {@code pending_commit} in meters and observers). {@code ShardedPool.withTransaction(fn)} drives
   * this handle: {@code fn}'s own failure rolls back and fails with that failure.
   *
   * @param pool the pool whose data sources the branches use (the log stays on this manager's)
   * @param timeout positive, at most {@code ScopeOptions.MAX_TIMEOUT}
   */
  @Override
  Future<ShardTransaction> begin(ShardedPool pool, Duration timeout);

  /**
   * Runs a TCC global transaction: {@code body} enlists branches ({@link TccTransaction#enlist}),
   * each logged before its try runs; when the body and every try succeeded before the deadline, the
   * COMMIT decision is written and every branch confirmed, else every enlisted branch is cancelled.
   * Actions must be {@linkplain #register registered} (in every instance that runs recovery).
   *
   * @param options the timeout of the try phase (body and tries), capped by an enclosing scope's
   *     deadline
   * @return the body's value once committed (also when confirms still fail after {@link
   *     TccOptions#completionTimeout()}: the decision is durable and recovery confirms them), on
   *     the caller's context; or fails with the work's own failure (a try's or the body's, the
   *     deadline's {@link ShardkitTimeoutException}) carrying a suppressed {@link
   *     TransactionRolledBackException} ({@link TransactionRolledBackException#of}), that typed
   *     exception when recovery cancelled first, or {@link TransactionOutcomePendingException}
   *     ({@code ROLLBACK}) when cancels still fail after the completion budget
   */
  <T> Future<T> tcc(TransactionOptions options, Function<TccTransaction, Future<T>> body);

  /**
   * Runs a saga: {@code body} calls steps ({@link SagaTransaction#step}), each appended to the
   * coordinator log before its action runs. When the body and every step succeeded before the
   * deadline, the saga is committed (no further phase runs). When the body or a step's action
   * fails, or the deadline passes, before any retry-only step was called, every logged step is
   * compensated in reverse log order, one after another, each retried until done. Calling a
   * retry-only step commits the saga (its pivot): from then on it only goes forward, the retry-only
   * actions being retried until they succeed, by this instance or by recovery in any instance.
   * Steps must be {@linkplain #register(SagaStep) registered} (in every instance that runs
   * recovery).
   *
   * @param options the timeout of the saga's body and compensatable steps, capped by an enclosing
   *     scope's deadline
   * @return the body's value once committed (also when retry-only actions still fail after {@link
   *     TccOptions#completionTimeout()}: recovery runs them forward), on the caller's context; or
   *     fails with the work's own failure (a step's or the body's, the deadline's timeout: every
   *     step was compensated) carrying a suppressed {@link TransactionRolledBackException}, {@link
   *     TransactionCommittedException} when the body failed after the pivot, {@link
   *     TransactionOutcomePendingException} ({@code ROLLBACK}) when compensations still fail after
   *     the completion budget (recovery finishes them), or {@link
   *     TransactionOutcomeUnknownException} when the decision could not be written nor read back
   */
  <T> Future<T> saga(TransactionOptions options, Function<SagaTransaction, Future<T>> body);

  /**
   * {@code pool.withTransaction(options.timeout(), fn)} on this manager's pool, answering more than
   * the value: a {@link TransactionResult} with the transaction's global id and whether a branch
   * was left for recovery to commit ({@link TransactionResult#secondPhasePending()}). Failures are
   * those of {@code pool.withTransaction} (each carries the global id once one was allocated).
   */
  <T> Future<TransactionResult<T>> xaResult(
      TransactionOptions options, Function<io.vertx.sqlclient.SqlConnection, Future<T>> fn);

  /**
   * {@link #tcc}, answering a {@link TransactionResult}: the body's value, the global id, and
   * whether confirms were still running or left to recovery when the caller was answered.
   */
  <T> Future<TransactionResult<T>> tccResult(
      TransactionOptions options, Function<TccTransaction, Future<T>> body);

  /**
   * {@link #saga}, answering a {@link TransactionResult}: the body's value, the global id, and
   * whether retry-only steps were still running or left to recovery when the caller was answered.
   */
  <T> Future<TransactionResult<T>> sagaResult(
      TransactionOptions options, Function<SagaTransaction, Future<T>> body);

  /**
   * Registers a saga step: a local one runs on the shard its argument routes to, fenced; a {@link
   * SagaStep#remote remote} reference goes to the participant registered under its name with {@link
   * #registerParticipant}. Step and TCC action names share one namespace.
   *
   * @throws ConfigurationException if the name is taken or its table unknown to the pool
   */
  <A> Transactions register(SagaStep<A, ?> step);

  /**
   * Registers a local TCC action (see {@link TccParticipants#register}).
   *
   * @throws ConfigurationException if the name is taken or its table unknown to the pool
   */
  <A> Transactions register(TccAction<A> action);

  /**
   * Sends the branches of the TCC action named {@code action} to {@code participant}, e.g. a gRPC
   * client of the service that runs it ({@code io.shardkit.tx.grpc.TccGrpc#participant}).
   *
   * @throws ConfigurationException if the name is already registered
   */
  Transactions registerParticipant(String action, TccParticipant participant);

  /** The local TCC participants (the fenced actions registered here). */
  TccParticipants participants();

  /**
   * Creates, where they do not exist, the XA coordinator log and lease tables and the TCC log
   * tables on the log data source, and the TCC fence table on every data source.
   */
  Future<Void> installSchema();

  /**
   * Makes this instance ready for its first transaction, so that a cold process does not spend a
   * transaction's deadline opening connections: opens one connection of every data source's pool
   * (given back to the pool idle, where the first transaction finds it), opens the connections the
   * XA coordinator keeps on the log data source for its decisions, and checks that the coordinator
   * log and XA lease tables exist there (and the fence table on every data source when local TCC
   * actions or saga steps are registered: register them first). Call it once at start, e.g. in a
   * verticle's {@code start} before it serves requests; it is harmless to call again. Bound it with
   * {@code .timeout(...)} if a data source may not answer.
   *
   * @return completes once every connection is open and the tables were found; fails with {@link
   *     io.shardkit.router.ShardUnavailableException} naming a data source that could not be
   *     reached, or {@link ConfigurationException} naming a missing table (run {@link
   *     #installSchema()} or your migrations)
   */
  Future<Void> warmUp();

  /**
   * Starts recovery of both protocols in this instance: a pass now, then one every recovery
   * interval. XA recovery commits or rolls back prepared branches a dead coordinator left (by the
   * log's decision, ABORT after the deadline plus grace); TCC recovery confirms or cancels the
   * transactions left mid-way. Leases in the database make each branch driven by one instance at a
   * time. Completes when the first XA pass ended.
   */
  Future<Void> startRecovery();

  /** Stops recovery; completes when the passes in progress have ended. */
  Future<Void> stopRecovery();

  /**
   * The durable decision for a global id, if the coordinator log (still) holds one: {@link
   * Decision#COMMIT}, or {@link Decision#ROLLBACK} when recovery (or a coordinator that lost the
   * race) decided ABORT. Empty for a transaction that never reached the decision (it rolled back)
   * or whose row was pruned.
   */
  Future<Optional<Decision>> decision(String globalId);

  /**
   * The connection of the named PostgreSQL data source ({@link
   * TransactionsOptions.Builder#postgres}) in the global XA transaction the caller runs in (call it
   * inside {@code pool.withTransaction}'s work, from the context the work was called on). The
   * source joins the transaction on first use ({@code BEGIN} on a connection pinned to it; later
   * calls get the same connection) and commits or rolls back with the MySQL shards: prepared with
   * {@code PREPARE TRANSACTION} under the same COMMIT decision, or committed in one phase when it
   * is the only participant. Run the source's own SQL on it (the router does not route or rewrite
   * it); do not commit or roll back on it.
   *
   * @return fails with {@link ConfigurationException} for a name that is not configured or a server
   *     with {@code max_prepared_transactions = 0}; with {@code ShardCircuitOpenException} while
   *     its breaker is open; with {@code ShardkitException} outside a transaction
   */
  Future<io.vertx.sqlclient.SqlClient> postgres(String name);

  /**
   * Stops recovery, waits for the background work of finished TCC and Saga transactions (second
   * phases still running after their caller was answered, done marks, hand-overs; at most the TCC
   * completion budget plus a phase timeout; what is left then, recovery finishes) and closes the
   * log connections. The pool stays open: its owner closes it (after this future completes).
   */
  Future<Void> close();
}
