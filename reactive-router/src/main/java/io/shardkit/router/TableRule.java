package io.shardkit.router;

import io.shardkit.router.spi.KeyGenerator;
import java.util.List;
import java.util.Optional;

/**
 * The rule of one sharded logical table: where its rows can live and how a row's place is chosen.
 *
 * @param logicalTable the logical table name, lower case
 * @param dataNodes every physical place, in declaration order (binding tables pair by position)
 * @param databaseStrategy picks the data source; absent when the table lives on one data source
 * @param tableStrategy picks the actual table within the data source; absent when there is one
 *     actual table per data source
 * @param keyColumn the column a key generator fills when an INSERT leaves it out, or null
 * @param keyGenerator the generator for {@code keyColumn}, or null
 * @param columns the table's columns in DDL order (lower case), used for INSERTs without a column
 *     list; empty when not configured (such INSERTs are then refused)
 */
public record TableRule(
    String logicalTable,
    List<DataNode> dataNodes,
    Optional<ShardingStrategy> databaseStrategy,
    Optional<ShardingStrategy> tableStrategy,
    String keyColumn,
    KeyGenerator keyGenerator,
    List<String> columns) {

  public TableRule {
    dataNodes = List.copyOf(dataNodes);
    columns = List.copyOf(columns);
  }

  /** The distinct data sources of the data nodes, in order of first appearance. */
  public List<String> dataSources() {
    return dataNodes.stream().map(DataNode::dataSource).distinct().toList();
  }

  /** The distinct actual table names of the data nodes, in order of first appearance. */
  public List<String> actualTables() {
    return dataNodes.stream().map(DataNode::table).distinct().toList();
  }

  /** Whether {@code column} (lower case) is a sharding column of either strategy. */
  public boolean isShardingColumn(String column) {
    return databaseStrategy.map(s -> s.columns().contains(column)).orElse(false)
        || tableStrategy.map(s -> s.columns().contains(column)).orElse(false);
  }
}
