package io.shardkit.tx.impl.xa;

import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.spi.ShardTransaction;
import io.shardkit.tx.TransactionOutcomePendingException;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.impl.Hooks;
import io.shardkit.tx.impl.OnContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlClient;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The {@link ShardTransaction} handle {@code ShardedPool} drives: an {@link XaTransaction} run
 * inside its own {@code TxScope}, whose body is "wait until the caller commits or rolls back".
 *
 * <p>Why a scope: the scope owns the deadline. When it passes first, the scope closes, its pins
 * make the {@link XaTransaction} roll back, and the caller's later statements and commit fail with
 * the scope's {@code ShardkitTimeoutException}; when the caller's commit decides first, the scope's
 * failure is mapped to the outcome types (pending after a COMMIT decision, unknown while it was
 * being written). Every method hops to the scope's context, where the coordinator lives, and
 * completes on the context that called {@link #begin}.
 */
final class XaShardTransaction implements ShardTransaction {

  private static final System.Logger LOG = System.getLogger(XaShardTransaction.class.getName());

  private enum Action {
    NONE,
    COMMIT,
    ROLLBACK
  }

  private final XaTransactionsImpl owner;
  private final Context caller;
  private final Promise<Void> end = Promise.promise();
  private final Hooks hooks;
  private XaTransaction tx;
  private Context scopeContext;
  private Action action = Action.NONE;
  private Future<Void> result;
  private Future<Void> completion;
  private long startedNanos;
  private io.opentelemetry.context.Context traceContext;

  private XaShardTransaction(XaTransactionsImpl owner, Context caller) {
    this.owner = owner;
    this.caller = caller;
    this.hooks = new Hooks(caller, owner.options().meterRegistry(), XaTransactionsImpl.MODE);
  }

  /** Starts the scope and the coordinator; completes once statements may be sent. */
  static Future<ShardTransaction> begin(
      XaTransactionsImpl owner, ShardedPool pool, Duration timeout) {
    Context caller = OnContext.callerOrNew(owner.vertx());
    XaShardTransaction handle = new XaShardTransaction(owner, caller);
    Promise<ShardTransaction> started = Promise.promise();
    ScopeOptions scope = ScopeOptions.builder().timeout(timeout).newGlobalId().build();
    io.opentelemetry.api.trace.Span span = owner.spans().start(XaTransactionsImpl.MODE);
    handle.traceContext = io.opentelemetry.context.Context.current().with(span);
    Future<Void> scopeOutcome;
    try (io.opentelemetry.context.Scope ignored = span.makeCurrent()) {
      scopeOutcome =
          TxScope.run(
              owner.vertx(),
              scope,
              () -> {
                TxContext context = TxScope.current().orElseThrow();
                owner.spans().bind(context.globalId(), span);
                handle.tx = new XaTransaction(owner, context, pool);
                owner.begun(context.globalId(), handle);
                handle.scopeContext = Vertx.currentContext();
                handle.startedNanos = System.nanoTime();
                return owner
                    .log()
                    .ready()
                    .recover(e -> Future.succeededFuture()) // the decision will report it
                    .compose(
                        v -> {
                          started.complete(handle);
                          return handle.end.future();
                        });
              });
    }
    handle.result =
        scopeOutcome
            .recover(
                e -> {
                  started.tryFail(e);
                  return Future.failedFuture(handle.tx == null ? e : handle.tx.scopeFailure(e));
                })
            .andThen(ar -> owner.ended(handle.tx == null ? null : handle.tx.globalId()))
            .andThen(
                ar ->
                    owner
                        .spans()
                        .end(
                            handle.tx == null ? null : handle.tx.globalId(),
                            span,
                            ar.succeeded()
                                ? (handle.action == Action.COMMIT ? "committed" : "rolled back")
                                : ar.cause().getClass().getSimpleName(),
                            ar.failed() ? ar.cause() : null));
    Future<Void> completion =
        handle.result.transform(
            ar -> {
              if (ar.succeeded() && handle.action != Action.COMMIT) {
                return Future.failedFuture(
                    new TransactionRolledBackException(
                        handle.globalId(), "rollback", Map.of(), "rolled back by the caller"));
              }
              if (ar.failed()
                  && ar.cause() instanceof TransactionOutcomePendingException pending
                  && pending.decision() == TransactionOutcomePendingException.Decision.COMMIT) {
                // committed: the decision is durable; recovery applies it on the branches left
                // (meters and observers say pending_commit)
                LOG.log(System.Logger.Level.INFO, pending.getMessage());
                owner.committedPending(pending.globalId());
                return Future.succeededFuture();
              }
              return ar.succeeded() ? Future.succeededFuture() : Future.failedFuture(ar.cause());
            });
    // hooks run first, on the caller's context; then the caller's futures complete there
    handle.completion =
        OnContext.on(caller, completion)
            .andThen(
                ar -> handle.hooks.outcome(handle.tx == null ? null : handle.tx.globalId(), ar));
    // the admission is given back when the caller is answered, whatever the outcome (a second
    // phase left to the background no longer counts: it holds no caller and no deadline)
    owner.admission().releaseWhen(handle.completion);
    return OnContext.on(caller, started.future());
  }

  @Override
  public String globalId() {
    return tx.globalId();
  }

  @Override
  public Future<SqlClient> clientFor(String dataSource) {
    if (result.failed()) { // the deadline (or the enclosing scope) ended it: say so
      return OnContext.on(caller, Future.failedFuture(result.cause()));
    }
    return OnContext.on(caller, onScope(() -> tx.clientFor(dataSource)));
  }

  @Override
  public Future<Void> commit() {
    if (action == Action.NONE) {
      action = Action.COMMIT;
      onScope(
              () -> {
                executed(true);
                return tx.commit();
              })
          .onComplete(end);
    } else if (action == Action.ROLLBACK) {
      return completion.transform(
          ar ->
              Future.failedFuture(
                  new ShardkitException(
                      "transaction " + globalId() + " was rolled back: cannot commit")));
    }
    return completion;
  }

  @Override
  public Future<Void> rollback() {
    if (action == Action.NONE) {
      action = Action.ROLLBACK;
      onScope(
              () -> {
                executed(false);
                return tx.rollbackByCaller();
              })
          .onComplete(end);
    }
    if (action == Action.COMMIT) {
      return completion;
    }
    // rolled back, by the caller or (first) by the deadline: nothing is applied anywhere
    return completion.otherwiseEmpty();
  }

  @Override
  public Future<Void> completion() {
    return completion;
  }

  @Override
  public void onCommit(Runnable hook) {
    hooks.onCommit(hook);
  }

  @Override
  public void onRollback(Runnable hook) {
    hooks.onRollback(hook);
  }

  @Override
  public io.opentelemetry.context.Context traceContext() {
    return traceContext;
  }

  /**
   * Records the execute phase (from begin to the caller's commit or rollback: the statements) as a
   * meter and a span; a rollback by the caller counts as an execute error (its work failed).
   */
  private void executed(boolean ok) {
    owner.phase(tx.globalId(), "execute", startedNanos, ok);
  }

  /** Runs {@code body} on the scope's context (the coordinator's). */
  private <T> Future<T> onScope(Supplier<Future<T>> body) {
    if (Vertx.currentContext() == scopeContext) {
      return body.get();
    }
    Promise<T> promise = Promise.promise();
    scopeContext.runOnContext(v -> body.get().onComplete(promise));
    return promise.future();
  }
}
