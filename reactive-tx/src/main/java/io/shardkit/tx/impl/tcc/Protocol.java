package io.shardkit.tx.impl.tcc;

import java.util.Optional;

/**
 * The protocols whose global transactions live in the coordinator log ({@code <prefix>_tx}), under
 * the name written in its {@code protocol} column (XA, TCC and Saga). The one place these names are
 * spelled: recovery dispatches a claimed row by it, and a row whose protocol this build does not
 * know is left alone (for an instance that does).
 */
public enum Protocol {
  /** Try / confirm / cancel. */
  TCC("TCC", "tcc"),
  /** Steps with compensations; retry-only steps after the pivot. */
  SAGA("SAGA", "saga"),
  /**
   * Two-phase commit: a row is the decision (COMMIT or CANCEL) of a transaction with several
   * branches. Never claimed by the row-driven recovery (its {@code next_attempt_at} stays NULL): XA
   * recovery scans the shards' {@code XA RECOVER} and reads the decisions, and alone prunes them.
   */
  XA("XA", "xa");

  private final String column;
  private final String mode;

  Protocol(String column, String mode) {
    this.column = column;
    this.mode = mode;
  }

  /** The value of the log's {@code protocol} column (ASCII, at most 8 characters). */
  public String column() {
    return column;
  }

  /** The {@code mode} tag of meters and spans. */
  public String mode() {
    return mode;
  }

  /** The protocol written as {@code column} in the log, if this build knows it. */
  public static Optional<Protocol> fromColumn(String column) {
    for (Protocol p : values()) {
      if (p.column.equals(column)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
