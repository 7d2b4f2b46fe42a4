package io.shardkit.router.fuzz;

import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.util.ArrayList;
import java.util.List;

/**
 * What a client saw for one statement.
 *
 * @param columns column labels
 * @param types column type names ({@code ColumnDescriptor.typeName()})
 * @param rows the values
 * @param rowCount the update count
 */
record QueryResult(
    List<String> columns, List<String> types, List<List<Object>> rows, long rowCount) {

  static QueryResult of(RowSet<Row> rs) {
    List<String> columns = rs.columnsNames() == null ? List.of() : List.copyOf(rs.columnsNames());
    List<String> types = new ArrayList<>();
    if (rs.columnDescriptors() != null) {
      rs.columnDescriptors().forEach(d -> types.add(String.valueOf(d.typeName())));
    }
    return new QueryResult(columns, types, FuzzWorld.values(rs), rs.rowCount());
  }
}
