package io.shardkit.router;

import io.shardkit.context.ShardkitException;
import java.util.List;

/**
 * Combining the data nodes' answers to one statement failed in an unexpected way (an internal error
 * of shardkit's merge, never a refusal: those are {@link UnsupportedSqlException}s, raised before
 * any I/O). The statement ran on every data source named: a read changed nothing, a write is not
 * undone (inside a transaction, roll it back). The original exception is the cause; please report
 * it with the statement.
 */
public class ResultMergeException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String sql;
  private final List<String> dataSources;

  public ResultMergeException(
      String sql, List<String> dataSources, boolean write, RuntimeException cause) {
    super(
        "could not combine the answers of "
            + String.join(", ", dataSources)
            + " to: "
            + sql
            + " ("
            + cause.getClass().getSimpleName()
            + (cause.getMessage() == null ? "" : ": " + cause.getMessage())
            + "). The statement ran on each of them"
            + (write
                ? " and its writes are not undone (inside a transaction, roll it back)"
                : "; nothing was changed")
            + ". This is a shardkit bug: please report it with the statement.",
        cause);
    this.sql = sql;
    this.dataSources = List.copyOf(dataSources);
  }

  /** The statement as the caller wrote it. */
  public String sql() {
    return sql;
  }

  /** The data sources whose answers were being combined, in the order of the statement's units. */
  public List<String> dataSources() {
    return dataSources;
  }
}
