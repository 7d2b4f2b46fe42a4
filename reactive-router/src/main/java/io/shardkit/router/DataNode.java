package io.shardkit.router;

import java.util.Objects;

/**
 * One physical place of a logical table: a data source (shard) and the actual table name in it.
 *
 * @param dataSource the data source name, as given to {@link ShardedPool.Builder#dataSource}
 * @param table the actual table name inside that data source
 */
public record DataNode(String dataSource, String table) {

  public DataNode {
    Objects.requireNonNull(dataSource, "dataSource");
    Objects.requireNonNull(table, "table");
  }

  @Override
  public String toString() {
    return dataSource + "." + table;
  }
}
