package io.shardkit.tx;

import java.time.Instant;

/**
 * A snapshot of one participant of a global XA transaction, taken as it joined: which protocol
 * ({@code mysql} for a shard's XA branch, {@code postgresql} for a PostgreSQL data source's
 * prepared transaction), which data source, its branch id (the XA xid, or the PostgreSQL global
 * transaction identifier as {@code pg_prepared_xacts} lists it), its isolation level (as the server
 * reported it when it joined; {@code null} when not read: MySQL shards run at their server's
 * default) and when it joined. Carried by the transaction's span (one event per participant) and by
 * the typed outcomes of a failed commit ({@link TransactionRolledBackException#participants()},
 * {@link TransactionOutcomeUnknownException#participants()}, {@link
 * TransactionOutcomePendingException#participants()}).
 */
public record Participant(
    String protocol, String dataSource, String branchId, String isolationLevel, Instant joinedAt) {

  /** {@code protocol} of a MySQL/MariaDB shard's XA branch. */
  public static final String MYSQL = "mysql";

  /** {@code protocol} of a PostgreSQL data source's branch (PREPARE TRANSACTION). */
  public static final String POSTGRESQL = "postgresql";

  @Override
  public String toString() {
    return protocol
        + " '"
        + dataSource
        + "' branch "
        + branchId
        + (isolationLevel == null ? "" : " (" + isolationLevel + ")")
        + " joined "
        + joinedAt;
  }
}
