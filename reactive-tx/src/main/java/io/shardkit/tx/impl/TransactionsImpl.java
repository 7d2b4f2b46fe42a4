package io.shardkit.tx.impl;

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
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.tcc.TccCoordinatorImpl;
import io.shardkit.tx.impl.xa.XaTransactionsImpl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/** {@link Transactions}: the XA and TCC protocols of one app instance and pool, side by side. */
public final class TransactionsImpl implements Transactions {

  private final XaTransactionsImpl xa;
  private final TccCoordinatorImpl tcc;
  private final Vertx vertx;
  private final TransactionsOptions options;
  private RecoveryService recovery;

  private TransactionsImpl(Vertx vertx, ShardedPool pool, TransactionsOptions options) {
    this.vertx = vertx;
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
  public Future<Optional<Decision>> decision(String globalId) {
    return xa.decision(globalId);
  }

  @Override
  public Future<Void> close() {
    // background phases of finished TCC and Saga transactions end first: they use the pool
    return stopRecovery().eventually(tcc::drainBackground).eventually(xa::close);
  }
}
