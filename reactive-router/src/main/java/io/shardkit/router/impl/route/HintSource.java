package io.shardkit.router.impl.route;

/** Where the router finds the routing hint of the current request (the caller's Vert.x context). */
@FunctionalInterface
public interface HintSource {

  HintSource NONE = () -> RoutingHint.NONE;

  /** The hint in force for the statement being routed now; {@link RoutingHint#NONE} if none. */
  RoutingHint current();
}
