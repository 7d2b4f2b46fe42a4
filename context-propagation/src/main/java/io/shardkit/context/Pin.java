package io.shardkit.context;

import io.vertx.core.Future;

/**
 * A resource (a connection, a lock, a cursor) pinned to the scope that was current when {@link
 * TxScope#pin} was called. The scope owns it: if the scope closes (success, failure or deadline)
 * while the resource is still pinned, the scope runs the release action and the registry stops
 * counting it.
 *
 * <p>Who releases: normally the code that acquired the resource, through {@link #release()} (run
 * the release action now) or, when it has already given the resource back itself, {@link #unpin()}
 * (stop tracking, run nothing). Whichever of {@code release()}, {@code unpin()} and the scope's
 * close comes first wins; the release action runs at most once.
 *
 * <p>Thread-safe.
 */
public interface Pin {

  /** What was pinned, as given to {@link TxScope#pin} (e.g. {@code "connection"}). */
  String kind();

  /** The global id of the owning scope. */
  String globalId();

  /**
   * Whether the resource is still pinned (neither released, unpinned, nor closed with its scope).
   */
  boolean isPinned();

  /**
   * Runs the release action now, unless it already ran or the pin was dropped, and stops tracking
   * the resource.
   *
   * @return the release action's outcome; a succeeded future when there was nothing left to do
   */
  Future<Void> release();

  /**
   * Stops tracking the resource without running the release action: the caller already gave it
   * back.
   *
   * @return true if the resource was still pinned, false if it had already been released
   */
  boolean unpin();
}
