package io.shardkit.router.impl.execute;

import io.shardkit.router.ShardedPool;
import io.shardkit.router.impl.merge.MergedRowSet;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.vertx.mysqlclient.MySQLClient;
import io.vertx.sqlclient.PropertyKind;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The one result of a write that ran as several units: the update counts of different data nodes
 * add up; the units of a broadcast write are copies of one table, so the statement's count is one
 * copy's (what one database holding the table would report). Generated keys and the last insert id
 * go into the properties.
 */
final class WriteResults {

  private WriteResults() {}

  static RowSet<Row> combine(Rewriter.Routed routed, List<RowSet<Row>> results) {
    List<RowSet<Row>> counted = routed.replicated() ? results.subList(0, 1) : results;
    int rowCount = 0;
    List<Row> rows = new ArrayList<>();
    Long lastInsertId = null;
    for (RowSet<Row> rs : counted) {
      rowCount += rs.rowCount();
      rs.forEach(rows::add);
      Long id = rs.property(MySQLClient.LAST_INSERTED_ID);
      if (lastInsertId == null && id != null && id != 0) {
        lastInsertId = id;
      }
    }
    Map<PropertyKind<?>, Object> properties = new HashMap<>();
    if (!routed.generatedKeys().isEmpty()) {
      properties.put(ShardedPool.GENERATED_KEYS, List.copyOf(routed.generatedKeys()));
      Object first = routed.generatedKeys().get(0);
      if (first instanceof Number n) {
        lastInsertId = n.longValue();
      }
    } else {
      properties.put(ShardedPool.GENERATED_KEYS, List.of());
    }
    if (lastInsertId != null) {
      properties.put(MySQLClient.LAST_INSERTED_ID, lastInsertId);
    }
    RowSet<Row> first = results.get(0);
    return MergedRowSet.of(
        rows, first.columnsNames(), first.columnDescriptors(), rowCount, properties);
  }
}
