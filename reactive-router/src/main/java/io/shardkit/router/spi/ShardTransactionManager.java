package io.shardkit.router.spi;

import io.shardkit.router.ShardedPool;
import io.vertx.core.Future;
import java.time.Duration;

/**
 * The seam between {@link ShardedPool} and the module that makes its transactions atomic
 * (reactive-tx). {@code ShardedPool.withTransaction}, {@code getConnection().begin()} and {@code
 * withTransaction(TransactionPropagation, ...)} call {@link #begin}; every statement of the
 * transaction then runs on the clients the returned {@link ShardTransaction} hands out per data
 * source, and the pool ends it with {@link ShardTransaction#commit()} or {@link
 * ShardTransaction#rollback()}. A write outside a transaction whose units reach several data
 * sources (a multi-row INSERT across shards, a scatter UPDATE/DELETE, a broadcast write, a batch)
 * also begins one, with the pool's default timeout: the pool commits it when every unit succeeded
 * and rolls it back otherwise, so the statement is applied wholly or not at all.
 *
 * <p>A pool built without a manager runs a transaction on one data source only (a local {@code
 * BEGIN ... COMMIT} on the connection of the first data source it touches) and refuses, before any
 * I/O on it, a statement that would reach a second one; it refuses a write outside a transaction
 * that reaches several data sources too, unless built with {@code nonAtomicMultiNodeWrites}.
 *
 * <p>Implementations must not block: every method returns at once and completes its future later.
 */
public interface ShardTransactionManager {

  /**
   * Starts a global transaction of {@code pool}.
   *
   * @param pool the pool whose statements the transaction runs (routing happens in the pool)
   * @param timeout how long the transaction may take from now (never null, zero or negative: the
   *     pool passes its default when the caller gave none, capped by the deadline of the enclosing
   *     {@code TxScope}); when it passes, the manager rolls the transaction back on its own and
   *     fails later statements and the commit with {@code ShardkitTimeoutException}
   * @return the transaction, once it can accept statements (no shard need be enlisted yet)
   */
  Future<ShardTransaction> begin(ShardedPool pool, Duration timeout);

  /**
   * A transaction admitted by {@link #admit()} before the pool set it up; given to {@link
   * #begin(ShardedPool, Duration, Admitted)}, or released if the pool fails before it begins.
   */
  interface Admitted {
    /** Nothing reserved: {@link #begin(ShardedPool, Duration)} admits (or refuses) as usual. */
    Admitted NONE = () -> {};

    /** Gives the admission back if {@code begin} has not taken it over (idempotent). */
    void release();
  }

  /**
   * Admits one transaction before {@code ShardedPool.withTransaction} sets it up (its scope,
   * deadline timer and connection), so that a refusal costs none of that; throws the manager's
   * typed refusal (e.g. reactive-tx's {@code TransactionOverloadedException}) when it refuses. The
   * default admits without reserving anything.
   */
  default Admitted admit() {
    return Admitted.NONE;
  }

  /**
   * {@link #begin(ShardedPool, Duration)} for a transaction {@link #admit()} admitted: the
   * admission is the transaction's from now on. The default releases it and begins as usual.
   */
  default Future<ShardTransaction> begin(ShardedPool pool, Duration timeout, Admitted admitted) {
    admitted.release();
    return begin(pool, timeout);
  }

  /** Stops what the manager runs in the background (recovery). The pool's owner closes the pool. */
  Future<Void> close();
}
