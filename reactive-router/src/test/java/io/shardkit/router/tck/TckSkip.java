package io.shardkit.router.tck;

import org.junit.AssumptionViolatedException;

/**
 * Skips a TCK test that does not apply to ShardedPool, with the reason (also listed in the
 * reactive-router README).
 */
final class TckSkip {

  /** A generic expectation MySQL does not meet; vertx-mysql-client's TCK overrides the test. */
  static final String MYSQL_OVERRIDES =
      "a generic expectation MySQL does not meet (BOOLEAN is TINYINT(1), TIME decodes as"
          + " Duration, FLOAT as a widened double); vertx-mysql-client's own TCK subclass overrides"
          + " this test, and a plain Vert.x MySQL pool fails it identically";

  /** The server differs from the TCK's MySQL; a plain pool fails the same way. */
  static final String SERVER_DIFFERENCE =
      "MariaDB answers differently from the MySQL the TCK expects (CHAR reported as VARCHAR,"
          + " FLOAT rendered as double); a plain Vert.x MySQL pool fails it identically";

  private TckSkip() {}

  static void because(String reason) {
    throw new AssumptionViolatedException("not applicable to ShardedPool: " + reason);
  }
}
