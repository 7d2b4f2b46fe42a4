package io.shardkit.context.impl;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxServiceProvider;
import io.vertx.core.spi.context.storage.ContextLocal;

/**
 * The only class that touches Vert.x internals ({@code io.vertx.core.internal}): duplicating a
 * context, dispatching on it, context-bound promises and timers. It is also the {@link
 * VertxServiceProvider} (listed in {@code META-INF/services}) whose loading registers the {@link
 * ContextLocal} that holds the current {@link Frame}.
 *
 * <p>Why a service provider: a {@code ContextLocal} must be registered before a {@code Vertx} is
 * built (each instance sizes its contexts' local storage at creation). Vert.x loads every provider
 * while bootstrapping, so loading this class runs the static registration in time.
 *
 * <p>The public no-argument constructor is required by {@link java.util.ServiceLoader}; it is the
 * one public constructor in {@code impl}, and it does nothing.
 */
public final class ContextBridge implements VertxServiceProvider {

  private static final ContextLocal<Frame> FRAME = ContextLocal.registerLocal(Frame.class);

  /** For {@link java.util.ServiceLoader} only. */
  public ContextBridge() {}

  @Override
  public void init(VertxBootstrap bootstrap) {
    // Nothing to configure: loading this class registered FRAME.
  }

  /** The frame of the current Vert.x context, or null (no context, or no scope on it). */
  static Frame currentFrame() {
    ContextInternal context = ContextInternal.current();
    return context == null ? null : context.getLocal(FRAME);
  }

  /** The frame stored on {@code context}, or null. */
  static Frame frame(Context context) {
    return context.getLocal(FRAME);
  }

  /**
   * Stores {@code frame} on {@code context} if it is a duplicated context without a frame.
   *
   * @return whether it was stored (root contexts are shared by every request: never written)
   */
  static boolean adopt(Context context, Frame frame) {
    ContextInternal internal = (ContextInternal) context;
    if (!internal.isDuplicate() || internal.getLocal(FRAME) != null) {
      return false;
    }
    internal.putLocal(FRAME, frame);
    return true;
  }

  /** The current context if it belongs to {@code vertx}, else a context of {@code vertx}. */
  static Context callerContext(Vertx vertx) {
    ContextInternal current = ContextInternal.current();
    if (current != null && current.owner() == vertx) {
      return current;
    }
    return vertx.getOrCreateContext();
  }

  /**
   * A new duplicated context for a scope opened from {@code caller}, holding {@code frame}. When
   * the caller is itself a duplicated context, its other locals (tracing, gRPC deadline, ...) are
   * copied so request-scoped state of other libraries stays visible inside the scope.
   */
  static Context newScopeContext(Context caller, Frame frame) {
    ContextInternal scopeContext = ((ContextInternal) caller).duplicate(true);
    scopeContext.putLocal(FRAME, frame);
    return scopeContext;
  }

  /** Whether the calling thread is the one {@code context} runs on. */
  static boolean onContextThread(Context context) {
    return ((ContextInternal) context).inThread();
  }

  /** Whether {@code context} is the current context and the calling thread is its thread. */
  static boolean isCurrent(Context context) {
    return ((ContextInternal) context).isRunningOnContext();
  }

  /**
   * Runs {@code task} on {@code context}: now, with {@code context} made current, when the calling
   * thread is the context's thread; otherwise as a task on it.
   */
  static void runOn(Context context, Runnable task) {
    ContextInternal internal = (ContextInternal) context;
    if (internal.inThread()) {
      ContextInternal previous = internal.beginDispatch();
      try {
        task.run();
      } finally {
        internal.endDispatch(previous);
      }
    } else {
      internal.runOnContext(v -> task.run());
    }
  }

  /** A promise whose listeners run on {@code context}. */
  static <T> Promise<T> promise(Context context) {
    return ((ContextInternal) context).promise();
  }

  /** A timer that fires on {@code context}. */
  static long setTimer(Context context, long delayMillis, Handler<Long> handler) {
    return ((ContextInternal) context).setTimer(delayMillis, handler);
  }

  /**
   * Cancels a timer set by {@link #setTimer}.
   *
   * @return true if it was cancelled, false if it fired (or is firing) or was already cancelled
   */
  static boolean cancelTimer(Context context, long timerId) {
    return context.owner().cancelTimer(timerId);
  }
}
