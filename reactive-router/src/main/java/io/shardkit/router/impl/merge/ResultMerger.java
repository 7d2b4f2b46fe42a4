package io.shardkit.router.impl.merge;

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
            : new KWayMerge(sources, new RowOrder(spec.orderBy(), visible));
    List<Row> out = new ArrayList<>();
    long skip = offset;
    long remaining = limit < 0 ? Long.MAX_VALUE : limit;
    if (!spec.aggregate()) {
      Set<List<Object>> seen = spec.distinct() ? new HashSet<>() : null;
      while (ordered.hasNext() && remaining > 0) {
        Row row = ordered.next();
        if (seen != null && !seen.add(keyOf(row, visible))) {
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
      List<Object[]> groups = group(ordered, spec, visible, width);
      if (spec.sortAfterGroup()) {
        RowOrder order = new RowOrder(spec.orderBy(), visible);
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
        if (seen != null && !seen.add(keyOf(visibleValues))) {
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

  private static List<Object[]> group(Iterator<Row> rows, MergeSpec spec, int visible, int width) {
    List<Object[]> out = new ArrayList<>();
    int[] keys = new int[spec.groupKeys().size()];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = spec.groupKeys().get(i).resolve(visible);
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
          current = new Aggregator(spec.aggregates(), visible);
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
        List<Object> key = new ArrayList<>(keys.length);
        for (int k : keys) {
          key.add(Values.key(row.getValue(k)));
        }
        groups.computeIfAbsent(key, k -> new Aggregator(spec.aggregates(), visible)).add(row);
      }
      for (Aggregator a : groups.values()) {
        out.add(a.result(width));
      }
    }
    if (out.isEmpty() && spec.scalar()) {
      out.add(new Aggregator(spec.aggregates(), visible).result(width));
    }
    return out;
  }

  private static boolean sameGroup(Row a, Row b, int[] keys) {
    for (int k : keys) {
      if (Values.compare(a.getValue(k), b.getValue(k)) != 0) {
        return false;
      }
    }
    return true;
  }

  private static List<Object> keyOf(Row row, int visible) {
    List<Object> key = new ArrayList<>(visible);
    for (int i = 0; i < visible; i++) {
      key.add(Values.key(row.getValue(i)));
    }
    return key;
  }

  private static List<Object> keyOf(Object[] values) {
    List<Object> key = new ArrayList<>(values.length);
    for (Object v : values) {
      key.add(Values.key(v));
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
