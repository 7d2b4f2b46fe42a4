package io.shardkit.testkit;

import java.time.Duration;

/**
 * A replica server following a primary through MariaDB replication (binary log, GTID): what a
 * read/write-splitting test reads from. Everything written on the {@link #primary()} arrives here
 * shortly after; the fault methods make it lag or die for real.
 *
 * <p>Blocking methods, for test code only (they refuse to run on an event loop).
 */
public interface Replica extends Shard {

  /** The server this replica follows. */
  Shard primary();

  /**
   * Stops applying replicated events ({@code STOP SLAVE SQL_THREAD}): the replica keeps receiving
   * the primary's binary log but applies none of it, so its data stays where it is and its lag
   * grows with every write on the primary.
   */
  void stopApplying();

  /** Applies again what arrived meanwhile ({@code START SLAVE SQL_THREAD}). */
  void startApplying();

  /**
   * Waits until this replica has applied everything the primary had written when the call began
   * ({@code MASTER_GTID_WAIT} on the primary's {@code @@gtid_binlog_pos}).
   *
   * @throws TestShardsException when it has not within {@code timeout}
   */
  void awaitCaughtUp(Duration timeout);
}
