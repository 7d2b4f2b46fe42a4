package io.shardkit.tx.impl;

import io.shardkit.context.ConfigurationException;
import io.shardkit.router.ShardUnavailableException;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.spi.ShardTransaction;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.SagaTransaction;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccParticipants;
import io.shardkit.tx.TccTransaction;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.TransactionResult;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.tcc.TccCoordinatorImpl;
import io.shardkit.tx.impl.xa.XaTransactionsImpl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/** {@link Transactions}: the XA and TCC protocols of one app instance and pool, side by side. */
public final class TransactionsImpl implements Transactions {

  private final XaTransactionsImpl xa;
  private final TccCoordinatorImpl tcc;
  private final Vertx vertx;
  private final ShardedPool pool;
  private final TransactionsOptions options;
  private RecoveryService recovery;

  private TransactionsImpl(Vertx vertx, ShardedPool pool, TransactionsOptions options) {
    this.vertx = vertx;
    this.pool = pool;
    this.options = options;
    this.xa = XaTransactionsImpl.create(vertx, pool, options);
    this.tcc = TccCoordinatorImpl.create(vertx, pool, options.tcc());
  }

  public static Transactions create(Vertx vertx, ShardedPool pool, TransactionsOptions options) {
    return new TransactionsImpl(
        Objects.requireNonNull(vertx, "vertx"),
        Objects.requireNonNull(pool, "pool"),
        Objects.requireNonNull(options, "options"));
  }

  /** The XA protocol (tests reach its recovery and stop points through it). */
  public XaTransactionsImpl xa() {
    return xa;
  }

  /** The TCC protocol (tests reach its recovery and stop points through it). */
  public TccCoordinatorImpl tccCoordinator() {
    return tcc;
  }

  @Override
  public Future<ShardTransaction> begin(ShardedPool pool, Duration timeout) {
    return xa.begin(pool, timeout);
  }

  @Override
  public Admitted admit() {
    return xa.admit();
  }

  @Override
  public Future<ShardTransaction> begin(ShardedPool pool, Duration timeout, Admitted admitted) {
    return xa.begin(pool, timeout, admitted);
  }

  @Override
  public <T> Future<T> tcc(TransactionOptions options, Function<TccTransaction, Future<T>> body) {
    Objects.requireNonNull(options, "options");
    return tcc.execute(options.timeout(), body);
  }

  @Override
  public <T> Future<T> saga(TransactionOptions options, Function<SagaTransaction, Future<T>> body) {
    Objects.requireNonNull(options, "options");
    return tcc.saga().execute(options.timeout(), body);
  }

  @Override
  public <T> Future<TransactionResult<T>> xaResult(
      TransactionOptions options, Function<SqlConnection, Future<T>> fn) {
    Objects.requireNonNull(options, "options");
    return xa.withResult(options, fn);
  }

  @Override
  public <T> Future<TransactionResult<T>> tccResult(
      TransactionOptions options, Function<TccTransaction, Future<T>> body) {
    Objects.requireNonNull(options, "options");
    return tcc.executeResult(options, body);
  }

  @Override
  public <T> Future<TransactionResult<T>> sagaResult(
      TransactionOptions options, Function<SagaTransaction, Future<T>> body) {
    Objects.requireNonNull(options, "options");
    return tcc.saga().executeResult(options.timeout(), body);
  }

  @Override
  public <A> Transactions register(SagaStep<A, ?> step) {
    tcc.saga().register(step);
    return this;
  }

  @Override
  public <A> Transactions register(TccAction<A> action) {
    tcc.register(action);
    return this;
  }

  @Override
  public Transactions registerParticipant(String action, TccParticipant participant) {
    tcc.registerParticipant(action, participant);
    return this;
  }

  @Override
  public TccParticipants participants() {
    return tcc.participants();
  }

  @Override
  public Future<Void> installSchema() {
    // the coordinator log (every protocol's) and the fences first, then XA's lease table
    return tcc.setup().compose(v -> xa.installSchema());
  }

  @Override
  public Future<Void> warmUp() {
    // Jackson's first use costs tens of milliseconds: pay it here, not in a first log write
    new io.vertx.core.json.JsonObject().put("warm", true).encode();
    String logDataSource = options.logDataSource();
    boolean fences = !tcc.participants().actions().isEmpty();
    // the kept decision connections first: opened alongside the pool's warm-up they could take
    // its idle connection, and the first transaction would open one after all
    return xa.warmUp()
        .compose(
            kept -> {
              List<Future<Void>> all = new ArrayList<>();
              for (String ds : pool.dataSourceNames()) {
                List<String> tables = new ArrayList<>();
                if (ds.equals(logDataSource)) {
                  tables.add(options.logTable());
                  tables.add(options.tablePrefix() + "_xa_lease");
                }
                if (fences) {
                  tables.add(tcc.options().fenceTable());
                }
                all.add(warmUp(ds, tables));
              }
              return Future.all(all).mapEmpty();
            });
  }

  /** Opens a connection of {@code ds}, checks {@code tables} on it, gives it back to the pool. */
  private Future<Void> warmUp(String ds, List<String> tables) {
    return pool.pool(ds)
        .getConnection()
        .recover(e -> Future.failedFuture(new ShardUnavailableException(ds, e)))
        .compose(
            conn -> {
              Future<Void> checks = Future.succeededFuture();
              for (String table : tables) {
                checks =
                    checks.compose(
                        v ->
                            conn.query("SELECT 1 FROM `" + table + "` WHERE 1 = 0")
                                .execute()
                                .<Void>mapEmpty()
                                .recover(e -> Future.failedFuture(missing(ds, table, e))));
              }
              return checks.eventually(conn::close);
            });
  }

  private static RuntimeException missing(String ds, String table, Throwable e) {
    if (e instanceof io.vertx.mysqlclient.MySQLException my && my.getErrorCode() == 1146) {
      return new ConfigurationException(
          "schema",
          "table "
              + table
              + " does not exist on data source "
              + ds
              + ": run installSchema() (or create it with your migrations) before the first"
              + " transaction",
          e);
    }
    return new ShardUnavailableException(ds, e);
  }

  @Override
  public synchronized Future<Void> startRecovery() {
    if (recovery == null) {
      recovery =
          new RecoveryService(vertx)
              .pass("XA", xa.recovery()::runOnce, options.recoveryInterval())
              .pass(
                  "coordinator log (TCC, Saga)",
                  tcc.recovery()::runOnce,
                  tcc.options().recoveryInterval());
    }
    return recovery.start();
  }

  @Override
  public Future<Void> stopRecovery() {
    RecoveryService running;
    synchronized (this) {
      running = recovery;
      recovery = null;
    }
    return running == null ? Future.succeededFuture() : running.stop();
  }

  @Override
  public Future<io.vertx.sqlclient.SqlClient> postgres(String name) {
    return xa.postgres(name);
  }

  @Override
  public Future<Optional<Decision>> decision(String globalId) {
    return xa.decision(globalId);
  }

  @Override
  public Future<Void> close() {
    // background phases of finished TCC and Saga transactions end first: they use the pool
    return stopRecovery().eventually(tcc::drainBackground).eventually(xa::close);
  }
}
