package io.shardkit.router;

import java.util.List;

/**
 * A write outside a transaction would reach several data sources on a pool without a transaction
 * manager. One database applies a statement wholly or not at all; several data sources in
 * autocommit cannot (a duplicate key or a failed row on one of them would leave the others' changes
 * applied), so the statement is refused before any I/O. Configure a transaction manager
 * (reactive-tx), which runs such a statement as an implicit atomic transaction, or opt in to
 * non-atomic multi-node writes ({@code ShardedPool.Builder.nonAtomicMultiNodeWrites(true)}, JSON
 * {@code "nonAtomicMultiNodeWrites": true}).
 */
public class NonAtomicWriteException extends UnsupportedSqlException {

  private static final long serialVersionUID = 1L;

  private final String sql;
  private final List<String> dataSources;

  /**
   * @param sql the refused statement
   * @param tables its logical tables
   * @param dataSources the data sources it would write to
   */
  public NonAtomicWriteException(String sql, List<String> tables, List<String> dataSources) {
    super(tables, message(sql, dataSources));
    this.sql = sql;
    this.dataSources = List.copyOf(dataSources);
  }

  private static String message(String sql, List<String> dataSources) {
    return "write ["
        + sql
        + "] would reach data sources "
        + String.join(", ", dataSources)
        + " outside a transaction, and a pool without a transaction manager cannot make it atomic"
        + " (nothing was sent); configure reactive-tx's transaction manager"
        + " (ShardedPool.Builder.transactionManager), or accept partial writes on failure with"
        + " nonAtomicMultiNodeWrites(true) / JSON \"nonAtomicMultiNodeWrites\": true";
  }

  /** The refused statement. */
  public String sql() {
    return sql;
  }

  /** The data sources the statement would write to. */
  public List<String> dataSources() {
    return dataSources;
  }
}
