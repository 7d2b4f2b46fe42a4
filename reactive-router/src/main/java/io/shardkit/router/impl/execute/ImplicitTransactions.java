package io.shardkit.router.impl.execute;

import io.shardkit.router.NonAtomicWriteException;
import io.shardkit.router.spi.ShardTransaction;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * How a write outside a transaction that sends more than one statement runs, so that it is applied
 * wholly or not at all as on one database.
 *
 * <p>Why: each data source runs its part in autocommit otherwise, and a duplicate key or a failed
 * row on one leaves the others' changes applied. Several statements on one data source run in one
 * local {@code BEGIN ... COMMIT} on one connection (no manager needed); statements on several data
 * sources run as an implicit transaction of the manager (one global transaction: begin, the units
 * on its clients, commit; rollback and the unit's own error on failure). Without a manager such a
 * write is refused before any I/O, unless the pool opted in to non-atomic multi-node writes.
 */
final class ImplicitTransactions {

  private final ShardedPoolImpl pool;
  private final boolean manager;
  private final boolean nonAtomicAllowed;

  ImplicitTransactions(ShardedPoolImpl pool, boolean manager, boolean nonAtomicAllowed) {
    this.pool = pool;
    this.manager = manager;
    this.nonAtomicAllowed = nonAtomicAllowed;
  }

  /**
   * Decides, before any I/O, how a write runs.
   *
   * @param sends how many statements it sends (units, or driver batches of a grouped batch)
   * @return how to begin its transaction, or null to run it on the pool as it is
   * @throws NonAtomicWriteException when it spans several data sources and cannot be made atomic
   */
  Supplier<Future<ShardTransaction>> decide(
      String sql, List<String> tables, Set<String> dataSources, int sends) {
    if (sends <= 1 || dataSources.isEmpty()) {
      return null;
    }
    if (dataSources.size() == 1) {
      return pool::beginLocalTransaction;
    }
    if (manager) {
      return () -> pool.beginTransaction(null);
    }
    if (nonAtomicAllowed) {
      return null;
    }
    // named in the configuration's order
    List<String> named = new ArrayList<>(pool.dataSourceNames());
    named.retainAll(dataSources);
    throw new NonAtomicWriteException(sql, tables, named);
  }

  /**
   * Begins, runs {@code work} on the transaction's clients, commits; on a failure of {@code work}
   * rolls back and fails with that failure.
   */
  <T> Future<T> run(
      Supplier<Future<ShardTransaction>> begin,
      Function<StatementRunner.ClientSource, Future<T>> work) {
    return begin
        .get()
        .compose(
            tx -> {
              StatementRunner.ClientSource inner = pool.sourceOf(tx);
              StatementRunner.ClientSource source = new Gated(inner);
              Future<T> result;
              try {
                result = work.apply(source);
              } catch (RuntimeException e) {
                result = Future.failedFuture(e);
              }
              return result.transform(
                  ar ->
                      ar.succeeded()
                          ? tx.commit().map(ar.result())
                          : tx.rollback()
                              .otherwiseEmpty()
                              .transform(v -> Future.<T>failedFuture(ar.cause())));
            });
  }

  /** A transaction's clients for new work: the circuit breakers may refuse it, as on the pool. */
  private record Gated(StatementRunner.ClientSource inner) implements StatementRunner.ClientSource {
    @Override
    public Future<SqlClient> clientFor(String dataSource) {
      return inner.clientFor(dataSource);
    }

    @Override
    public boolean gated() {
      return true;
    }

    @Override
    public void started(Future<?> statement) {
      inner.started(statement);
    }
  }
}
