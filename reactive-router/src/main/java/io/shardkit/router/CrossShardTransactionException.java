package io.shardkit.router;

import java.util.List;

/**
 * A statement of a transaction on a pool without a transaction manager would reach a second data
 * source. Such a transaction runs as a local {@code BEGIN ... COMMIT} on the first data source it
 * touched, which cannot make writes on another one atomic, so the statement is refused before any
 * I/O on the second data source and the transaction can then only be rolled back (its commit rolls
 * back and fails with this exception). Configure a transaction manager (reactive-tx) for atomic
 * cross-shard transactions.
 */
public class CrossShardTransactionException extends UnsupportedSqlException {

  private static final long serialVersionUID = 1L;

  private final String sql;
  private final String pinnedDataSource;
  private final List<String> dataSources;

  /**
   * @param sql the refused statement
   * @param tables its logical tables
   * @param pinnedDataSource the data source the transaction runs on (null when the statement is the
   *     transaction's first and itself spans several data sources)
   * @param dataSources the data sources the statement would reach
   */
  public CrossShardTransactionException(
      String sql, List<String> tables, String pinnedDataSource, List<String> dataSources) {
    super(tables, message(sql, pinnedDataSource, dataSources));
    this.sql = sql;
    this.pinnedDataSource = pinnedDataSource;
    this.dataSources = List.copyOf(dataSources);
  }

  private static String message(String sql, String pinned, List<String> dataSources) {
    String reach = String.join(", ", dataSources);
    return (pinned == null
            ? "statement [" + sql + "] would start a transaction on several data sources (" + reach
            : "statement ["
                + sql
                + "] would reach data source(s) "
                + reach
                + " in a transaction that runs on data source "
                + pinned)
        + (pinned == null ? ")" : "")
        + "; a pool without a transaction manager runs a transaction on one data source only"
        + " (nothing was sent there; the transaction can only be rolled back)";
  }

  /** The refused statement. */
  public String sql() {
    return sql;
  }

  /** The data source the transaction runs on, or null when none was chosen yet. */
  public String pinnedDataSource() {
    return pinnedDataSource;
  }

  /** The data sources the statement would reach. */
  public List<String> dataSources() {
    return dataSources;
  }
}
