package io.shardkit.router.impl.execute;

import io.shardkit.router.impl.rewrite.Rewriter;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.impl.SqlClientInternal;
import io.vertx.sqlclient.spi.DatabaseMetadata;
import io.vertx.sqlclient.spi.Driver;

/**
 * The connection {@code ShardedPool.getConnection()} gives: not one physical connection but a
 * routed client whose statements run on the pool's connections, or, once {@link #begin()} started a
 * transaction, on that transaction's clients. The source is looked up when a statement executes, so
 * a query built before {@code begin()} runs in the transaction.
 */
final class RoutedConnection implements SqlConnection, SqlClientInternal {

  private final ShardedPoolImpl pool;
  private final DatabaseMetadata metadata;
  private final StatementRunner.ClientSource source = new CurrentSource();
  private TransactionHandle transaction;
  private Handler<Void> closeHandler;
  private boolean closed;
  private boolean wrote;

  RoutedConnection(ShardedPoolImpl pool, DatabaseMetadata metadata) {
    this.pool = pool;
    this.metadata = metadata;
  }

  /** The source of the transaction in progress, or the pool's. */
  private synchronized StatementRunner.ClientSource current() {
    if (transaction != null && !transaction.released()) {
      return pool.sourceOf(transaction.shardTransaction());
    }
    transaction = null;
    if (closed) {
      return ClosedSource.INSTANCE;
    }
    // outside a transaction, like ShardingSphere: once this connection wrote, its reads go to the
    // primary, so it reads its own writes even when its data source has read replicas
    return wrote
        ? pool.poolSource().primariesOnly()
        : pool.poolSource().observingWrites(this::wrote);
  }

  private synchronized void wrote() {
    wrote = true;
  }

  @Override
  public Future<Transaction> begin() {
    return begin(null);
  }

  /** Begins with a deadline {@code timeout} from now, or the pool's default when null. */
  Future<Transaction> begin(java.time.Duration timeout) {
    return begin(timeout, io.shardkit.router.spi.ShardTransactionManager.Admitted.NONE);
  }

  /** {@link #begin(java.time.Duration)} for a transaction the manager {@code admitted} before. */
  Future<Transaction> begin(
      java.time.Duration timeout,
      io.shardkit.router.spi.ShardTransactionManager.Admitted admitted) {
    synchronized (this) {
      if (closed) {
        admitted.release();
        return Future.failedFuture(new IllegalStateException("connection closed"));
      }
      if (transaction != null && !transaction.released()) {
        admitted.release();
        return Future.failedFuture(
            new IllegalStateException(
                "transaction "
                    + transaction.shardTransaction().globalId()
                    + " is still open on this connection"));
      }
    }
    return pool.beginTransaction(timeout, admitted)
        .map(
            tx -> {
              TransactionHandle handle = new TransactionHandle(tx);
              synchronized (this) {
                transaction = handle;
              }
              return handle;
            });
  }

  @Override
  public synchronized Transaction transaction() {
    return transaction != null && !transaction.released() ? transaction : null;
  }

  @Override
  public Query<RowSet<Row>> query(String sql) {
    return RoutedQuery.of(pool.runner(), source, sql, false);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
    return RoutedQuery.of(pool.runner(), source, sql, true);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
    ShardedPoolImpl.checkOptions(options);
    return preparedQuery(sql);
  }

  @Override
  public Future<PreparedStatement> prepare(String sql) {
    try {
      pool.runner().check(sql);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return Future.succeededFuture(new RoutedPreparedStatement(preparedQuery(sql)));
  }

  @Override
  public Future<PreparedStatement> prepare(String sql, PrepareOptions options) {
    try {
      ShardedPoolImpl.checkOptions(options);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return prepare(sql);
  }

  @Override
  public SqlConnection exceptionHandler(Handler<Throwable> handler) {
    return this; // failures reach each statement's future; there is no connection-level error
  }

  @Override
  public synchronized SqlConnection closeHandler(Handler<Void> handler) {
    this.closeHandler = handler;
    return this;
  }

  @Override
  public boolean isSSL() {
    return pool.isSsl();
  }

  @Override
  public DatabaseMetadata databaseMetadata() {
    return metadata;
  }

  /** Rolls back a transaction still open, then calls the close handler. */
  @Override
  public Future<Void> close() {
    TransactionHandle open;
    Handler<Void> handler;
    synchronized (this) {
      if (closed) {
        return Future.succeededFuture();
      }
      closed = true;
      open = transaction != null && !transaction.released() ? transaction : null;
      handler = closeHandler;
    }
    Future<Void> rollback = open == null ? Future.succeededFuture() : open.rollback();
    return rollback.transform(
        ar -> {
          if (handler != null) {
            handler.handle(null);
          }
          return Future.succeededFuture();
        });
  }

  @Override
  @SuppressWarnings("rawtypes")
  public Driver driver() {
    return pool.driver();
  }

  @Override
  public void group(Handler<SqlClient> block) {
    block.handle(this);
  }

  /** Resolves to the transaction's or the pool's source when a statement executes. */
  private final class CurrentSource implements StatementRunner.ClientSource {

    @Override
    public StatementRunner.ClientSource resolve() {
      return current();
    }

    @Override
    public Future<SqlClient> clientFor(String dataSource) {
      return current().clientFor(dataSource);
    }
  }

  /** Statements on a closed connection fail before routing anything. */
  private enum ClosedSource implements StatementRunner.ClientSource {
    INSTANCE;

    @Override
    public Future<SqlClient> clientFor(String dataSource) {
      return Future.failedFuture(new IllegalStateException("connection closed"));
    }

    @Override
    public void admit(String sql, Rewriter.Routed routed) {
      throw new IllegalStateException("connection closed");
    }
  }
}
