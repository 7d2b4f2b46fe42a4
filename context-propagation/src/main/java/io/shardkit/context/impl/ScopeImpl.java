package io.shardkit.context.impl;

import io.opentelemetry.api.trace.Span;
import io.shardkit.context.Deadline;
import io.shardkit.context.RoutingHint;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxContext;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * One scope opened by {@code TxScope.run}: a duplicated context holding this frame, a deadline
 * timer, and everything the body pinned or started underneath (pins, nested scopes, bounded
 * futures).
 *
 * <p>It closes exactly once, on whichever comes first: the body's future completes, the deadline
 * timer fires, the enclosing scope closes, or the leak guard forces it. Closing cancels the timer,
 * releases what the scope still owns (newest first), updates the registry, and only then completes
 * the caller's promise, so a caller that saw the result sees the registry without this scope.
 *
 * <p>State changes are guarded by {@code this}: closing can be triggered from another thread than
 * the scope's event loop (a forced close, a pin released from a worker). No I/O happens under the
 * lock; release actions run after it is dropped.
 */
final class ScopeImpl extends Frame implements Owned {

  private static final AtomicLong IDS = new AtomicLong();

  final long id = IDS.incrementAndGet();
  final ScopeImpl parent;
  private final Promise<Object> result;
  private Context context;

  private long timerId = -1;
  private boolean closed;
  private ArrayList<Owned> owned;

  private ScopeImpl(TxContext tx, ScopeImpl parent, Promise<Object> result) {
    super(tx, System.nanoTime());
    this.parent = parent;
    this.result = result;
  }

  @SuppressWarnings("unchecked")
  static <T> Future<T> open(Vertx vertx, ScopeOptions options, Supplier<Future<T>> body) {
    Promise<T> promise;
    ScopeImpl scope;
    try {
      Context caller = ContextBridge.callerContext(vertx);
      Frame enclosing = ContextBridge.frame(caller);
      TxContext tx = derive(options, enclosing == null ? null : enclosing.tx);
      promise = ContextBridge.promise(caller);
      scope =
          new ScopeImpl(
              tx, enclosing == null ? null : enclosing.owner(), (Promise<Object>) promise);
      scope.context = ContextBridge.newScopeContext(caller, scope);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    scope.start(body);
    return promise.future();
  }

  /** Applies the nesting rules documented on {@link ScopeOptions}. */
  static TxContext derive(ScopeOptions options, TxContext enclosing) {
    Deadline deadline = Deadline.in(options.timeout());
    io.opentelemetry.context.Context trace = io.opentelemetry.context.Context.current();
    if (enclosing == null) {
      return TxContext.of(
          options.globalId().orElseGet(TxContext::newGlobalId),
          options.branchId().orElse(null),
          deadline,
          options.routingHint().orElse(null),
          trace);
    }
    boolean sameTransaction = options.globalId().isEmpty();
    String branchId =
        options.branchId().orElse(sameTransaction ? enclosing.branchId().orElse(null) : null);
    RoutingHint hint = options.routingHint().orElse(enclosing.routingHint().orElse(null));
    // A span made current inside the enclosing scope is the caller's span; in a callback, where
    // nothing is current, the enclosing scope's trace still is.
    if (!Span.fromContext(trace).getSpanContext().isValid()) {
      trace = enclosing.traceContext();
    }
    return TxContext.of(
        options.globalId().orElse(enclosing.globalId()),
        branchId,
        deadline.min(enclosing.deadline()),
        hint,
        trace);
  }

  private <T> void start(Supplier<Future<T>> body) {
    RegistryImpl.INSTANCE.opened(this);
    if (parent != null && !parent.own(this)) {
      fail(
          new ShardkitException(
              "global transaction "
                  + tx.globalId()
                  + ": the enclosing scope is already closed; the nested scope was not started"));
      return;
    }
    if (tx.deadline().isExpired()) {
      expire();
      return;
    }
    ContextBridge.runOn(
        context,
        () -> {
          if (armTimer()) {
            runBody(body);
          }
        });
  }

  /** Sets the deadline timer; false if the scope closed before it could start. */
  private boolean armTimer() {
    long remaining = tx.deadline().remainingNanos();
    long delayMillis = Math.max(1, (remaining + 999_999) / 1_000_000);
    RegistryImpl.INSTANCE.timerArmed();
    long timer = ContextBridge.setTimer(context, delayMillis, this::onTimer);
    boolean cancel;
    synchronized (this) {
      cancel = closed;
      if (!closed) {
        timerId = timer;
      }
    }
    if (cancel && ContextBridge.cancelTimer(context, timer)) {
      RegistryImpl.INSTANCE.timerDone();
    }
    return !cancel;
  }

  private <T> void runBody(Supplier<Future<T>> body) {
    Future<T> future;
    io.opentelemetry.context.Scope otel = Tracing.makeCurrent(tx.traceContext());
    try {
      future = body.get();
      if (future == null) {
        future =
            Future.failedFuture(
                new NullPointerException("the scope body returned null instead of a Future"));
      }
    } catch (Throwable t) {
      future = Future.failedFuture(t);
    } finally {
      if (otel != null) {
        otel.close();
      }
    }
    future.onComplete(this::bodyDone);
  }

  private void bodyDone(AsyncResult<?> outcome) {
    if (ContextBridge.isCurrent(context)) {
      finish(outcome);
    } else {
      ContextBridge.runOn(context, () -> finish(outcome));
    }
  }

  private void finish(AsyncResult<?> outcome) {
    if (close(null)) {
      if (outcome.succeeded()) {
        result.tryComplete(outcome.result());
      } else {
        result.tryFail(outcome.cause());
      }
    }
  }

  private void onTimer(Long firedTimerId) {
    RegistryImpl.INSTANCE.timerDone();
    synchronized (this) {
      if (timerId == firedTimerId) {
        timerId = -1;
      }
    }
    expire();
  }

  private void expire() {
    ShardkitTimeoutException timeout = timeout(null, null);
    if (close(timeout)) {
      RegistryImpl.INSTANCE.timedOut();
      result.tryFail(timeout);
    }
  }

  /** Closes the scope and fails its caller with {@code failure}, unless already closed. */
  void fail(ShardkitException failure) {
    if (close(failure)) {
      try {
        result.tryFail(failure);
      } catch (java.util.concurrent.RejectedExecutionException vertxClosed) {
        // the scope's Vert.x is closed: nobody can hear the failure any more, and the scope
        // has left the registry (a leak guard's forceCloseAll must get through every scope)
      }
    }
  }

  /**
   * The enclosing scope closed while this one was open. When this scope's own deadline has passed
   * by then, it timed out, whatever ended the enclosing scope (a sibling scope with the same
   * deadline may have fired first and let the enclosing body finish): owners (a coordinator) must
   * hear a timeout, not "closed by the enclosing scope".
   */
  @Override
  public void closeWith(Throwable cause) {
    if (cause instanceof ShardkitTimeoutException || tx.deadline().isExpired()) {
      expire();
    } else {
      fail(
          new ShardkitException(
              "global transaction "
                  + tx.globalId()
                  + ": the enclosing scope closed before this nested scope finished",
              cause));
    }
  }

  @Override
  public String kind() {
    return "scope";
  }

  /**
   * Closes the scope once: cancels the timer, releases what it still owns (newest first), then
   * leaves the registry and the enclosing scope.
   *
   * @param cause the timeout or failure to pass to owned things, or null for a normal end
   * @return whether this call closed it
   */
  boolean close(Throwable cause) {
    long timer;
    List<Owned> leftovers;
    synchronized (this) {
      if (closed) {
        return false;
      }
      closed = true;
      timer = timerId;
      timerId = -1;
      leftovers = owned;
      owned = null;
    }
    if (timer >= 0 && ContextBridge.cancelTimer(context, timer)) {
      RegistryImpl.INSTANCE.timerDone();
    }
    if (leftovers != null && !leftovers.isEmpty()) {
      Throwable reason =
          cause != null
              ? cause
              : new ShardkitException(
                  "global transaction "
                      + tx.globalId()
                      + ": scope closed before the work it owned finished");
      for (int i = leftovers.size() - 1; i >= 0; i--) {
        leftovers.get(i).closeWith(reason);
      }
    }
    // Last, so a registry without this scope means everything it owned is released.
    RegistryImpl.INSTANCE.closed(this);
    if (parent != null) {
      parent.disown(this);
    }
    return true;
  }

  /**
   * Makes this scope the owner of {@code thing}.
   *
   * @return false if the scope is already closed (the caller must release {@code thing} itself)
   */
  synchronized boolean own(Owned thing) {
    if (closed) {
      return false;
    }
    if (owned == null) {
      owned = new ArrayList<>(4);
    }
    owned.add(thing);
    return true;
  }

  /** Forgets {@code thing}, released by its owner. Searches from the end: releases are LIFO. */
  synchronized void disown(Owned thing) {
    if (owned != null) {
      for (int i = owned.size() - 1; i >= 0; i--) {
        if (owned.get(i) == thing) {
          owned.remove(i);
          return;
        }
      }
    }
  }

  synchronized boolean isClosed() {
    return closed;
  }

  /** What this scope owns, by kind, and how many nested scopes are open: for the registry. */
  synchronized java.util.Map<String, Integer> ownedByKind() {
    java.util.Map<String, Integer> counts = new java.util.TreeMap<>();
    if (owned != null) {
      for (Owned thing : owned) {
        counts.merge(thing.kind(), 1, Integer::sum);
      }
    }
    return counts;
  }

  @Override
  ScopeImpl owner() {
    return this;
  }
}
