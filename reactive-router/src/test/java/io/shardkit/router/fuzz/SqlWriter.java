package io.shardkit.router.fuzz;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds the text of a generated statement. A value marked as a parameter becomes {@code ?} (and a
 * tuple element) when the statement is prepared, and a literal otherwise.
 */
final class SqlWriter {

  private final StringBuilder sql = new StringBuilder();
  private final List<Object> params = new ArrayList<>();
  private final boolean prepared;
  private final boolean ignoreIndexes;

  SqlWriter(boolean prepared) {
    this(prepared, false);
  }

  /**
   * @param ignoreIndexes every table read by name gets {@code IGNORE INDEX (k)} (the one secondary
   *     index the fuzz tables have): the same query under a plan without index lookups
   */
  SqlWriter(boolean prepared, boolean ignoreIndexes) {
    this.prepared = prepared;
    this.ignoreIndexes = ignoreIndexes;
  }

  boolean ignoreIndexes() {
    return ignoreIndexes;
  }

  SqlWriter append(String text) {
    sql.append(text);
    return this;
  }

  SqlWriter value(Object value, boolean asParameter) {
    if (asParameter && prepared) {
      sql.append('?');
      params.add(value);
    } else {
      sql.append(SqlText.literal(value));
    }
    return this;
  }

  String sql() {
    return sql.toString();
  }

  List<Object> params() {
    return java.util.Collections.unmodifiableList(new ArrayList<>(params));
  }

  boolean prepared() {
    return prepared;
  }
}
