package io.shardkit.router.tck;

import org.junit.AssumptionViolatedException;

/**
 * Skips a TCK test that does not apply to ShardedPool, with the reason (also listed in the
 * reactive-router README).
 */
final class TckSkip {

  private TckSkip() {}

  static void because(String reason) {
    throw new AssumptionViolatedException("not applicable to ShardedPool: " + reason);
  }
}
