package io.shardkit.context.impl;

import io.shardkit.context.Pin;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ScopeRegistry;
import io.shardkit.context.TxContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/** What {@code TxScope} delegates to; documented there. */
public final class Scopes {

  private Scopes() {}

  public static <T> Future<T> run(Vertx vertx, ScopeOptions options, Supplier<Future<T>> body) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(body, "body");
    return ScopeImpl.open(vertx, options, body);
  }

  public static Optional<TxContext> current() {
    Frame frame = ContextBridge.currentFrame();
    return frame == null ? Optional.empty() : Optional.of(frame.tx);
  }

  public static <T> Future<T> bound(Future<T> work, Runnable cleanup) {
    return BoundImpl.bound(work, cleanup);
  }

  public static <T> Future<T> bound(Supplier<Future<T>> work, Runnable cleanup) {
    return BoundImpl.bound(work, cleanup);
  }

  public static Pin pin(String kind, Supplier<? extends Future<?>> releaseAction) {
    return PinImpl.pin(kind, releaseAction);
  }

  public static ScopeRegistry registry() {
    return RegistryImpl.INSTANCE;
  }
}
