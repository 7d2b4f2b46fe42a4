package io.shardkit.router.fuzz;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A generated logical table: its columns (the first is {@code id}, the second the key {@code k}),
 * how it is distributed, and for a sharded table its rule JSON.
 *
 * @param name the logical name
 * @param distribution sharded, broadcast or single
 * @param algorithm the sharding algorithm(s), for reports ({@code mod}, {@code hash-mod}, ...)
 * @param columns all columns in DDL order
 * @param rule the rule JSON of a sharded table, null otherwise
 */
record FuzzTable(
    String name,
    Distribution distribution,
    String algorithm,
    List<FuzzColumn> columns,
    JsonObject rule) {

  enum Distribution {
    SHARDED,
    BROADCAST,
    SINGLE
  }

  FuzzTable {
    columns = List.copyOf(columns);
  }

  FuzzColumn key() {
    return columns.get(1);
  }

  FuzzColumn column(String name) {
    return columns.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
  }

  List<FuzzColumn> valueColumns() {
    return columns.subList(2, columns.size());
  }

  /** CREATE TABLE for the logical (reference) or an actual table. */
  String ddl(String tableName) {
    return "CREATE TABLE `"
        + tableName
        + "` ("
        + columns.stream().map(FuzzColumn::ddl).collect(Collectors.joining(", "))
        + ", KEY (`k`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";
  }

  String columnList() {
    return columns.stream().map(c -> "`" + c.name() + "`").collect(Collectors.joining(", "));
  }
}
