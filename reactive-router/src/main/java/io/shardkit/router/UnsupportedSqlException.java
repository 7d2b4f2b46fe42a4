package io.shardkit.router;

import io.shardkit.context.ShardkitException;
import java.util.List;

/**
 * A statement the router refuses before any I/O because it cannot be executed correctly across
 * shards (a join of two sharded tables that are not bound, a subquery whose tables land on
 * different shards, an update of a sharding key, a transaction-control statement sent to a pool,
 * ...). Nothing was sent to any shard. The message names the logical tables and the reason.
 */
public class UnsupportedSqlException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final List<String> tables;

  public UnsupportedSqlException(List<String> tables, String reason) {
    super(tables.isEmpty() ? reason : reason + " (tables: " + String.join(", ", tables) + ")");
    this.tables = List.copyOf(tables);
  }

  protected UnsupportedSqlException(String message, Throwable cause) {
    super(message, cause);
    this.tables = List.of();
  }

  /** The logical tables the refused statement uses, where known; empty otherwise. */
  public List<String> tables() {
    return tables;
  }
}
