package io.shardkit.router.impl.schema;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The column metadata of the logical tables, as read from one actual table of each when the pool
 * started or after DDL through the pool. A table that did not exist then is absent: the router then
 * treats its columns as of unknown type (sort keys for every compared value, sharding values passed
 * to the algorithms as given).
 */
public record Schema(Map<String, List<ColumnInfo>> tables) {

  /** No metadata. */
  public static final Schema EMPTY = new Schema(Map.of());

  public Schema {
    tables = Map.copyOf(tables);
  }

  /** The columns of a logical table (lower case), in DDL order, if known. */
  public Optional<List<ColumnInfo>> table(String logicalTable) {
    return Optional.ofNullable(tables.get(logicalTable));
  }

  /** One column of a logical table, if known. */
  public Optional<ColumnInfo> column(String logicalTable, String column) {
    List<ColumnInfo> columns = tables.get(logicalTable);
    if (columns == null) {
      return Optional.empty();
    }
    for (ColumnInfo c : columns) {
      if (c.name().equals(column)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}
