package io.shardkit.router.impl.merge;

import io.shardkit.router.impl.analyse.Collated;
import io.shardkit.router.impl.analyse.MergeSpec;
import io.vertx.sqlclient.PropertyKind;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.desc.ColumnDescriptor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Merge: the RowSets of several route units → the RowSet of the logical query. Order of work: k-way
 * ORDER BY merge (or concatenation), grouping (adjacent rows when sorted by the group keys, else a
 * hash map, then a sort), DISTINCT, OFFSET/LIMIT, and last the removal of derived columns.
 */
public final class ResultMerger {

  private ResultMerger() {}

  /** Merges unit results; {@code limit} -1 means none. */
  public static MergedRowSet<Row> merge(
      List<RowSet<Row>> results,
      MergeSpec spec,
      long offset,
      long limit,
      io.vertx.sqlclient.Tuple params) {
    RowSet<Row> firstResult = results.get(0);
    List<String> allNames =
        firstResult.columnsNames() == null ? List.of() : firstResult.columnsNames();
    int width = allNames.size();
    int visible = width - spec.derivedCount();
    List<ColumnDescriptor> descriptors = firstResult.columnDescriptors();
    RowDesc desc =
        RowDesc.of(
            allNames.subList(0, Math.max(0, visible)),
            descriptors == null
                ? List.of()
                : descriptors.subList(0, Math.min(descriptors.size(), Math.max(0, visible))));
    List<Iterator<Row>> sources = new ArrayList<>(results.size());
    for (RowSet<Row> r : results) {
      sources.add(r.iterator());
    }
    Iterator<Row> ordered =
        spec.orderBy().isEmpty()
            ? concat(sources)
            : new KWayMerge(sources, new RowOrder(spec.orderBy(), visible, descriptors));
    List<Row> out = new ArrayList<>();
    long skip = offset;
    long remaining = limit < 0 ? Long.MAX_VALUE : limit;
    checkOrdinals(spec, descriptors, visible);
    MergeSpec.Resolved[] distinctKeys = distinctKeys(spec, visible, descriptors);
    checkFloats(spec, descriptors, visible, distinctKeys, params == null);
    Collated.UnkeyedGuard guard = new Collated.UnkeyedGuard(Math.max(0, width));
    if (!spec.aggregate()) {
      Set<List<Object>> seen = spec.distinct() ? new HashSet<>() : null;
      while (ordered.hasNext() && remaining > 0) {
        Row row = ordered.next();
        if (seen != null && !seen.add(keyOf(row::getValue, distinctKeys, guard))) {
          continue;
        }
        if (skip > 0) {
          skip--;
          continue;
        }
        out.add(spec.derivedCount() == 0 ? row : project(row, desc, visible));
        remaining--;
      }
    } else {
      List<Object[]> groups = group(ordered, spec, visible, width, guard, params, descriptors);
      if (spec.sortAfterGroup()) {
        RowOrder order = new RowOrder(spec.orderBy(), visible, descriptors);
        groups.sort(order::compareValues);
      }
      Set<List<Object>> seen = spec.distinct() ? new HashSet<>() : null;
      for (Object[] values : groups) {
        if (remaining == 0) {
          break;
        }
        if (spec.having() != null && !spec.having().test(values, visible, params)) {
          continue;
        }
        Object[] visibleValues = java.util.Arrays.copyOf(values, visible);
        if (seen != null && !seen.add(keyOf(i -> values[i], distinctKeys, guard))) {
          continue;
        }
        if (skip > 0) {
          skip--;
          continue;
        }
        out.add(new MergedRow(desc, visibleValues));
        remaining--;
      }
    }
    Map<PropertyKind<?>, Object> properties = new HashMap<>();
    return MergedRowSet.of(out, desc.names(), desc.descriptors(), out.size(), properties);
  }

  private static List<Object[]> group(
      Iterator<Row> rows,
      MergeSpec spec,
      int visible,
      int width,
      Collated.UnkeyedGuard guard,
      io.vertx.sqlclient.Tuple params,
      List<ColumnDescriptor> descriptors) {
    List<Object[]> out = new ArrayList<>();
    MergeSpec.Resolved[] keys = new MergeSpec.Resolved[spec.groupKeys().size()];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = RowOrder.typed(spec.groupKeys().get(i).resolve(visible), descriptors);
    }
    if (spec.streamingGroup()) {
      Aggregator current = null;
      Row currentKey = null;
      while (rows.hasNext()) {
        Row row = rows.next();
        if (current == null || !sameGroup(currentKey, row, keys)) {
          if (current != null) {
            out.add(current.result(width));
          }
          current = new Aggregator(spec.aggregates(), visible, params);
          currentKey = row;
        }
        current.add(row);
      }
      if (current != null) {
        out.add(current.result(width));
      }
    } else {
      Map<List<Object>, Aggregator> groups = new LinkedHashMap<>();
      while (rows.hasNext()) {
        Row row = rows.next();
        List<Object> key = keyOf(row::getValue, keys, guard);
        groups
            .computeIfAbsent(key, k -> new Aggregator(spec.aggregates(), visible, params))
            .add(row);
      }
      for (Aggregator a : groups.values()) {
        out.add(a.result(width));
      }
    }
    if (out.isEmpty() && spec.scalar()) {
      // no unit returned a row (DISTINCT arguments are grouped on the units): the types of
      // expressions come from the units' column definitions instead of their values
      Aggregator empty = new Aggregator(spec.aggregates(), visible, params);
      empty.descriptors(descriptors);
      out.add(empty.result(width));
    }
    return out;
  }

  private static boolean sameGroup(Row a, Row b, MergeSpec.Resolved[] keys) {
    for (MergeSpec.Resolved k : keys) {
      if (RowOrder.compareKey(k, a, b) != 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * An ENUM or SET column orders by position, which needs its members from the schema. When the
   * plan was made without them (the table's metadata could not be read), the merge refuses rather
   * than order such a column by its text. The driver's column flags tell ENUM and SET apart.
   */
  public static void checkOrdinals(
      MergeSpec spec, List<ColumnDescriptor> descriptors, int visible) {
    if (descriptors == null || descriptors.isEmpty()) {
      return;
    }
    List<MergeSpec.Key> keys = new ArrayList<>(spec.groupKeys());
    spec.orderBy().forEach(k -> keys.add(k.key()));
    if (spec.distinctKeys() != null) {
      keys.addAll(spec.distinctKeys());
    }
    for (MergeSpec.Key key : keys) {
      int column = key.column().resolve(visible);
      if (key.ordinals() == null
          && column >= 0
          && column < descriptors.size()
          && descriptors.get(column)
              instanceof io.vertx.mysqlclient.impl.protocol.ColumnDefinition definition
          && (definition.flags() & (ENUM_FLAG | SET_FLAG)) != 0) {
        throw new io.shardkit.router.UnsupportedSqlException(
            List.of(),
            "column "
                + definition.name()
                + " is an ENUM or SET whose members the router has not read (the table's"
                + " metadata was unavailable): it cannot order or group it across data nodes;"
                + " ShardedPool.refreshSchema() reads it again");
      }
    }
  }

  private static final int ENUM_FLAG = 256;
  private static final int SET_FLAG = 2048;

  /** The DISTINCT keys: every visible column, with its sort key where the plan named one. */
  private static MergeSpec.Resolved[] distinctKeys(
      MergeSpec spec, int visible, List<ColumnDescriptor> descriptors) {
    if (!spec.distinct()) {
      return null;
    }
    MergeSpec.Resolved[] keys = new MergeSpec.Resolved[Math.max(0, visible)];
    List<MergeSpec.Key> named = spec.distinctKeys() == null ? List.of() : spec.distinctKeys();
    for (int i = 0; i < keys.length; i++) {
      MergeSpec.Key k = i < named.size() ? named.get(i) : null;
      keys[i] =
          RowOrder.typed(
              k == null ? new MergeSpec.Resolved(i, -1, -1) : k.resolve(visible), descriptors);
    }
    return keys;
  }

  /**
   * A FLOAT the merge orders, groups or deduplicates without its exact value (the plan could not
   * type it: a column under a wildcard, a table without metadata) on the text protocol, which sends
   * a FLOAT with 6 significant digits: two values the server tells apart (123456.79, 123456.8)
   * would read alike (123457). Refused rather than merged by the rounded text; a prepared statement
   * sends FLOATs exactly.
   */
  static void checkFloats(
      MergeSpec spec,
      List<ColumnDescriptor> descriptors,
      int visible,
      MergeSpec.Resolved[] distinctKeys,
      boolean textProtocol) {
    if (!textProtocol || descriptors == null || descriptors.isEmpty()) {
      return;
    }
    List<MergeSpec.Resolved> keys = new ArrayList<>();
    spec.groupKeys().forEach(k -> keys.add(k.resolve(visible)));
    spec.orderBy().forEach(k -> keys.add(k.key().resolve(visible)));
    if (distinctKeys != null) {
      keys.addAll(List.of(distinctKeys));
    }
    for (MergeSpec.Resolved k : keys) {
      if (k.weight() < 0
          && k.column() >= 0
          && k.column() < descriptors.size()
          && descriptors.get(k.column()).jdbcType() == java.sql.JDBCType.FLOAT) {
        throw new io.shardkit.router.UnsupportedSqlException(
            List.of(),
            "column "
                + descriptors.get(k.column()).name()
                + " is a FLOAT the router could not type (under a wildcard, or the table's"
                + " metadata was unavailable): the text protocol sends it with 6 significant"
                + " digits, too few to order, group or deduplicate it across data nodes; name the"
                + " column or use a prepared statement");
      }
    }
  }

  private static List<Object> keyOf(
      java.util.function.IntFunction<Object> row,
      MergeSpec.Resolved[] keys,
      Collated.UnkeyedGuard guard) {
    List<Object> key = new ArrayList<>(keys.length);
    for (MergeSpec.Resolved k : keys) {
      Object value = k.ordered(row.apply(k.column()));
      Object hashKey =
          Collated.key(
              value,
              k.weight() < 0 ? null : row.apply(k.weight()),
              k.pad() < 0 ? null : row.apply(k.pad()));
      guard.check(k.column(), hashKey);
      key.add(hashKey);
    }
    return key;
  }

  /** Drops the trailing derived columns of unit rows (for streams). */
  public static java.util.function.UnaryOperator<Row> projector(
      List<String> names, List<ColumnDescriptor> descriptors, int derived) {
    if (derived == 0) {
      return java.util.function.UnaryOperator.identity();
    }
    int visible = names.size() - derived;
    RowDesc desc =
        RowDesc.of(
            names.subList(0, visible),
            descriptors == null
                ? List.of()
                : descriptors.subList(0, Math.min(visible, descriptors.size())));
    return row -> project(row, desc, visible);
  }

  static Row project(Row row, RowDesc desc, int visible) {
    Object[] values = new Object[visible];
    for (int i = 0; i < visible; i++) {
      values[i] = row.getValue(i);
    }
    return new MergedRow(desc, values);
  }

  private static Iterator<Row> concat(List<Iterator<Row>> sources) {
    return new Iterator<>() {
      int i;

      @Override
      public boolean hasNext() {
        while (i < sources.size()) {
          if (sources.get(i).hasNext()) {
            return true;
          }
          i++;
        }
        return false;
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        return sources.get(i).next();
      }
    };
  }
}
