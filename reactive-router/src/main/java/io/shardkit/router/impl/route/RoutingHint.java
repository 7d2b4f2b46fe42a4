package io.shardkit.router.impl.route;

import java.util.List;
import java.util.Map;

/**
 * Routing forced from outside the SQL text, carried in the transaction context (never a
 * ThreadLocal): a data source for the whole statement and/or sharding values per logical table that
 * replace the conditions of the SQL.
 *
 * @param dataSource the forced data source or null
 * @param databaseValues per lower-case logical table: database sharding values
 * @param tableValues per lower-case logical table: table sharding values
 */
public record RoutingHint(
    String dataSource,
    Map<String, List<Object>> databaseValues,
    Map<String, List<Object>> tableValues) {

  public static final RoutingHint NONE = new RoutingHint(null, Map.of(), Map.of());

  public boolean isEmpty() {
    return dataSource == null && databaseValues.isEmpty() && tableValues.isEmpty();
  }
}
