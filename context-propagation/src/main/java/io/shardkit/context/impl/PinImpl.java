package io.shardkit.context.impl;

import io.shardkit.context.Pin;
import io.shardkit.context.ShardkitException;
import io.vertx.core.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/** A resource pinned to a scope; the first of release, unpin and the scope's close wins. */
final class PinImpl implements Pin, Owned {

  private static final System.Logger LOG = System.getLogger(PinImpl.class.getName());

  private final ScopeImpl scope;
  private final String kind;
  private final Supplier<? extends Future<?>> releaseAction;
  private final AtomicBoolean done = new AtomicBoolean();

  private PinImpl(ScopeImpl scope, String kind, Supplier<? extends Future<?>> releaseAction) {
    this.scope = scope;
    this.kind = kind;
    this.releaseAction = releaseAction;
  }

  static Pin pin(String kind, Supplier<? extends Future<?>> releaseAction) {
    if (kind == null || kind.isBlank()) {
      throw new IllegalArgumentException("pin: kind must name what is pinned, got '" + kind + "'");
    }
    if (releaseAction == null) {
      throw new IllegalArgumentException("pin(" + kind + "): releaseAction must not be null");
    }
    Frame frame = ContextBridge.currentFrame();
    if (frame == null) {
      throw new ShardkitException(
          "pin(" + kind + "): no scope on this Vert.x context; call it inside TxScope.run");
    }
    ScopeImpl owner = frame.owner();
    if (owner == null) {
      throw new ShardkitException(
          "pin("
              + kind
              + "): global transaction "
              + frame.tx.globalId()
              + " arrived over the event bus or gRPC and no scope owns this context yet;"
              + " open one with TxScope.run before pinning resources");
    }
    PinImpl pin = new PinImpl(owner, kind, releaseAction);
    RegistryImpl.INSTANCE.pinned();
    if (!owner.own(pin)) {
      pin.done.set(true);
      RegistryImpl.INSTANCE.unpinned();
      pin.runReleaseAction()
          .onFailure(t -> LOG.log(System.Logger.Level.WARNING, "release of " + pin + " failed", t));
      throw new ShardkitException(
          "pin("
              + kind
              + "): the scope of global transaction "
              + frame.tx.globalId()
              + " is already closed; the resource was released at once");
    }
    return pin;
  }

  @Override
  public String kind() {
    return kind;
  }

  @Override
  public String globalId() {
    return scope.tx.globalId();
  }

  @Override
  public boolean isPinned() {
    return !done.get();
  }

  @Override
  public Future<Void> release() {
    if (!done.compareAndSet(false, true)) {
      return Future.succeededFuture();
    }
    scope.disown(this);
    // Counted as pinned until the action has started, so an idle registry means "released".
    Future<Void> released = runReleaseAction();
    RegistryImpl.INSTANCE.unpinned();
    return released;
  }

  @Override
  public boolean unpin() {
    if (!done.compareAndSet(false, true)) {
      return false;
    }
    scope.disown(this);
    RegistryImpl.INSTANCE.unpinned();
    return true;
  }

  @Override
  public void closeWith(Throwable cause) {
    if (done.compareAndSet(false, true)) {
      runReleaseAction()
          .onFailure(
              t ->
                  LOG.log(System.Logger.Level.WARNING, "forced release of " + this + " failed", t));
      RegistryImpl.INSTANCE.forcedRelease();
      RegistryImpl.INSTANCE.unpinned();
    }
  }

  private Future<Void> runReleaseAction() {
    try {
      Future<?> released = releaseAction.get();
      return released == null ? Future.succeededFuture() : released.mapEmpty();
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
  }

  @Override
  public String toString() {
    return "Pin[" + kind + " of global transaction " + scope.tx.globalId() + "]";
  }
}
