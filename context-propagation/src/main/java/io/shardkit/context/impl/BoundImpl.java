package io.shardkit.context.impl;

import io.shardkit.context.ShardkitException;
import io.shardkit.context.ShardkitTimeoutException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * A future bounded by the current deadline ({@code TxScope.bound}). Inside a scope it is owned by
 * the scope and rides on the scope's deadline timer; on an adopted context (no owning scope) it
 * sets a timer of its own, counted by the registry. Either way, the first of "work completed",
 * "deadline" and "scope closed" wins: on the latter two the cleanup runs and the caller gets the
 * failure, even if the work never completes.
 */
final class BoundImpl<T> implements Owned {

  private static final System.Logger LOG = System.getLogger(BoundImpl.class.getName());

  private final Frame frame;
  private Runnable cleanup;
  private final Promise<T> promise;
  private final AtomicBoolean done = new AtomicBoolean();
  private ScopeImpl scope;
  private Context timerContext;
  private long timerId = -1;

  private BoundImpl(Frame frame, Runnable cleanup, Promise<T> promise) {
    this.frame = frame;
    this.cleanup = cleanup;
    this.promise = promise;
  }

  static <T> Future<T> bound(Future<T> work, Runnable cleanup) {
    if (work == null) {
      return Future.failedFuture(new NullPointerException("bound(): work must not be null"));
    }
    return bound(() -> work, cleanup, true);
  }

  /**
   * Starts {@code work} only if the deadline has not passed and the owning scope is still open;
   * otherwise the work is never started, {@code cleanup} does not run (there is nothing to stop)
   * and the returned future fails as it would at the deadline.
   */
  static <T> Future<T> bound(Supplier<Future<T>> work, Runnable cleanup) {
    if (work == null) {
      return Future.failedFuture(new NullPointerException("bound(): work must not be null"));
    }
    return bound(work, cleanup, false);
  }

  private static <T> Future<T> bound(
      Supplier<Future<T>> work, Runnable cleanup, boolean alreadyStarted) {
    Context context = Vertx.currentContext();
    Frame frame = context == null ? null : ContextBridge.frame(context);
    if (frame == null) {
      return Future.failedFuture(
          new ShardkitException(
              "bound(): no transaction context on this Vert.x context, so no deadline to bound"
                  + " by; call it inside TxScope.run or a propagated consumer"));
    }
    // Until the work has started there is nothing for the cleanup to stop.
    BoundImpl<T> bound =
        new BoundImpl<>(frame, alreadyStarted ? cleanup : null, ContextBridge.promise(context));
    if (frame.tx.deadline().isExpired()) {
      bound.closeWith(frame.timeout(null, null));
      return bound.promise.future();
    }
    ScopeImpl owner = frame.owner();
    if (owner != null) {
      bound.scope = owner;
      if (!owner.own(bound)) {
        bound.closeWith(
            new ShardkitException(
                "bound(): the scope of global transaction "
                    + frame.tx.globalId()
                    + " is already closed"));
        return bound.promise.future();
      }
    } else {
      bound.armStandaloneTimer(context);
    }
    Future<T> started;
    try {
      started = work.get();
      if (started == null) {
        started = Future.failedFuture(new NullPointerException("bound(): work returned null"));
      }
    } catch (RuntimeException e) {
      started = Future.failedFuture(e);
    }
    bound.started(cleanup);
    started.onComplete(bound::workDone);
    return bound.promise.future();
  }

  /** From now on, abandoning the work must stop it. */
  private void started(Runnable stop) {
    synchronized (this) {
      cleanup = stop;
    }
  }

  private void armStandaloneTimer(Context context) {
    long remaining = frame.tx.deadline().remainingNanos();
    long delayMillis = Math.max(1, (remaining + 999_999) / 1_000_000);
    RegistryImpl.INSTANCE.standaloneArmed(this);
    long timer = ContextBridge.setTimer(context, delayMillis, this::onTimer);
    synchronized (this) {
      timerContext = context;
      if (!done.get()) {
        timerId = timer;
        return;
      }
    }
    if (ContextBridge.cancelTimer(context, timer)) {
      RegistryImpl.INSTANCE.timerDone();
    }
  }

  private void onTimer(Long firedTimerId) {
    RegistryImpl.INSTANCE.timerDone();
    synchronized (this) {
      timerId = -1;
    }
    closeWith(frame.timeout(null, null));
  }

  private void workDone(AsyncResult<T> outcome) {
    if (!done.compareAndSet(false, true)) {
      return;
    }
    forget();
    promise.handle(outcome);
  }

  /** The deadline fired, or the owning scope closed, before the work completed. */
  @Override
  public void closeWith(Throwable cause) {
    if (!done.compareAndSet(false, true)) {
      return;
    }
    forget();
    Runnable stop;
    synchronized (this) {
      stop = cleanup;
    }
    try {
      if (stop != null) {
        stop.run();
      }
    } catch (Throwable t) {
      LOG.log(
          System.Logger.Level.WARNING,
          "cleanup of bounded work of global transaction " + frame.tx.globalId() + " failed",
          t);
    }
    promise.tryFail(
        cause instanceof ShardkitTimeoutException || cause instanceof ShardkitException
            ? cause
            : new ShardkitException("bounded work abandoned", cause));
  }

  /** Leaves the owning scope, or cancels the standalone timer. */
  private void forget() {
    if (scope != null) {
      scope.disown(this);
      return;
    }
    long timer;
    Context context;
    synchronized (this) {
      timer = timerId;
      timerId = -1;
      context = timerContext;
    }
    RegistryImpl.INSTANCE.standaloneDone(this);
    if (timer >= 0 && ContextBridge.cancelTimer(context, timer)) {
      RegistryImpl.INSTANCE.timerDone();
    }
  }

  String globalId() {
    return frame.tx.globalId();
  }

  java.time.Duration remaining() {
    return frame.tx.deadline().remaining();
  }

  @Override
  public String kind() {
    return "bound";
  }
}
