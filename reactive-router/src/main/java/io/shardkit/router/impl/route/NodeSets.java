package io.shardkit.router.impl.route;

import io.shardkit.router.ShardingStrategy;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.parse.ValueRef;
import io.shardkit.router.spi.ValueRange;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Evaluates sharding conditions to sets of data nodes (bit sets over a binding group's aligned
 * nodes): leaves through the tables' algorithms, AND as intersection (plus bounded ranges and
 * multi-column strategies built from several leaves), OR as union; null means every node.
 */
final class NodeSets {

  private final Map<String, TableIndex> indexes;
  private final Coercion coercion;

  NodeSets(Map<String, TableIndex> indexes, Coercion coercion) {
    this.indexes = indexes;
    this.coercion = coercion;
  }

  BitSet hintNodes(List<String> tables, RoutingHint hint) {
    if (hint.databaseValues().isEmpty() && hint.tableValues().isEmpty()) {
      return null;
    }
    BitSet result = null;
    for (String table : tables) {
      TableIndex index = indexes.get(table);
      List<Object> dbValues = hint.databaseValues().get(table);
      if (dbValues != null && index.rule.databaseStrategy().isPresent()) {
        BitSet s =
            exact(
                index,
                index.rule.databaseStrategy().get(),
                dbValues,
                index.byDataSource,
                "database hint");
        result = result == null ? s : and(result, s);
      }
      List<Object> tableValues = hint.tableValues().get(table);
      if (tableValues != null && index.rule.tableStrategy().isPresent()) {
        BitSet s =
            exact(
                index, index.rule.tableStrategy().get(), tableValues, index.byTable, "table hint");
        result = result == null ? s : and(result, s);
      }
    }
    return result;
  }

  private BitSet exact(
      TableIndex index,
      ShardingStrategy strategy,
      List<Object> values,
      Map<String, BitSet> byTarget,
      String what) {
    BitSet out = new BitSet();
    for (Object v : values) {
      String target = target(index, strategy, List.of(v), what);
      if (target != null) {
        BitSet nodes = byTarget.get(target);
        if (nodes != null) {
          out.or(nodes);
        }
      }
    }
    return out;
  }

  static String target(TableIndex index, ShardingStrategy strategy, List<?> values, String column) {
    try {
      return strategy.algorithm().target(values);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new UnsupportedSqlException(
          List.of(index.rule.logicalTable()),
          "cannot shard "
              + index.rule.logicalTable()
              + "."
              + column
              + " = "
              + values
              + ": "
              + e.getMessage());
    }
  }

  /** Node set of a condition for one group; null means every node. */
  BitSet eval(Cond cond, int group, Tuple params) {
    if (cond instanceof Cond.Leaf leaf) {
      return leaf.group() == group ? leaf(leaf, params) : null;
    }
    if (cond instanceof Cond.And and) {
      BitSet result = null;
      for (Cond child : and.children()) {
        BitSet s = eval(child, group, params);
        if (s != null) {
          result = result == null ? s : and(result, s);
        }
      }
      BitSet complex = complex(and, group, params);
      if (complex != null) {
        result = result == null ? complex : and(result, complex);
      }
      BitSet ranges = combinedRanges(and, group, params);
      if (ranges != null) {
        result = result == null ? ranges : and(result, ranges);
      }
      return result;
    }
    if (cond instanceof Cond.Or or) {
      BitSet result = new BitSet();
      for (Cond child : or.children()) {
        BitSet s = eval(child, group, params);
        if (s == null) {
          return null;
        }
        result.or(s);
      }
      return result;
    }
    return null;
  }

  static BitSet and(BitSet a, BitSet b) {
    BitSet copy = (BitSet) a.clone();
    copy.and(b);
    return copy;
  }

  BitSet leaf(Cond.Leaf leaf, Tuple params) {
    TableIndex index = indexes.get(leaf.table());
    BitSet result = null;
    if (index.rule.databaseStrategy().isPresent()) {
      BitSet s =
          single(index, index.rule.databaseStrategy().get(), leaf, params, index.byDataSource);
      result = s;
    }
    if (index.rule.tableStrategy().isPresent()) {
      BitSet s = single(index, index.rule.tableStrategy().get(), leaf, params, index.byTable);
      if (s != null) {
        result = result == null ? s : and(result, s);
      }
    }
    return result;
  }

  private BitSet single(
      TableIndex index,
      ShardingStrategy strategy,
      Cond.Leaf leaf,
      Tuple params,
      Map<String, BitSet> byTarget) {
    if (!strategy.isSingleColumn() || !strategy.columns().get(0).equals(leaf.column())) {
      return null;
    }
    BitSet out = new BitSet();
    if (!leaf.isRange()) {
      List<ValueRef> values = leaf.values();
      for (int i = 0; i < values.size(); i++) {
        Object raw = resolve(values.get(i), params);
        coercion.refuseFractionalEquality(leaf.table(), leaf.column(), raw);
        Object v = coercion.condition(leaf.table(), leaf.column(), raw, strategy.algorithm());
        if (v == null) {
          continue;
        }
        if (v == Coercion.ANY) {
          return null;
        }
        String target = target(index, strategy, List.of(v), leaf.column());
        BitSet nodes = target == null ? null : byTarget.get(target);
        if (nodes != null) {
          out.or(nodes);
        }
      }
      return out;
    }
    if (comparesAsDoubles(leaf, params)) {
      return null;
    }
    Object lower =
        leaf.lower() == null
            ? null
            : coercion.bound(
                leaf.table(), leaf.column(), resolve(leaf.lower(), params), strategy.algorithm());
    Object upper =
        leaf.upper() == null
            ? null
            : coercion.bound(
                leaf.table(), leaf.column(), resolve(leaf.upper(), params), strategy.algorithm());
    if (lower == Coercion.ANY || upper == Coercion.ANY) {
      return null;
    }
    if (leaf.lower() != null && lower == null || leaf.upper() != null && upper == null) {
      return out;
    }
    Collection<String> targets;
    try {
      targets =
          strategy
              .algorithm()
              .targets(new ValueRange(lower, leaf.lowerInclusive(), upper, leaf.upperInclusive()));
    } catch (IllegalArgumentException | ArithmeticException e) {
      return null;
    }
    if (targets == null) {
      return null;
    }
    for (String target : targets) {
      BitSet nodes = byTarget.get(target);
      if (nodes != null) {
        out.or(nodes);
      }
    }
    return out;
  }

  /**
   * Whether the leaf is a {@code BETWEEN} on an integer column that the server compares as doubles,
   * where that differs from its exact bounds: such a range routes everywhere, each node answering
   * by its own comparison.
   */
  private boolean comparesAsDoubles(Cond.Leaf leaf, Tuple params) {
    return leaf.between()
        && leaf.lower() != null
        && leaf.upper() != null
        && coercion.betweenAsDoubles(
            leaf.table(),
            leaf.column(),
            leaf.lower(),
            resolve(leaf.lower(), params),
            leaf.upper(),
            resolve(leaf.upper(), params));
  }

  /**
   * {@code c > a AND c <= b}: half-open ranges on one column of an AND route as the bounded range
   * they make together (each alone would route everywhere).
   */
  private BitSet combinedRanges(Cond.And and, int group, Tuple params) {
    BitSet result = null;
    List<Cond.Leaf> ranges = new ArrayList<>();
    for (Cond child : and.children()) {
      if (child instanceof Cond.Leaf leaf
          && leaf.group() == group
          && leaf.isRange()
          && !comparesAsDoubles(leaf, params)) {
        ranges.add(leaf);
      }
    }
    if (ranges.size() < 2) {
      return null;
    }
    for (int i = 0; i < ranges.size(); i++) {
      Cond.Leaf base = ranges.get(i);
      ValueRef lower = base.lower();
      boolean lowerInclusive = base.lowerInclusive();
      ValueRef upper = base.upper();
      boolean upperInclusive = base.upperInclusive();
      boolean combined = false;
      for (int j = 0; j < ranges.size(); j++) {
        Cond.Leaf other = ranges.get(j);
        if (j == i
            || !other.table().equals(base.table())
            || !other.column().equals(base.column())) {
          continue;
        }
        if (other.lower() != null && (lower == null || greater(other.lower(), lower, params))) {
          lower = other.lower();
          lowerInclusive = other.lowerInclusive();
          combined = true;
        }
        if (other.upper() != null && (upper == null || greater(upper, other.upper(), params))) {
          upper = other.upper();
          upperInclusive = other.upperInclusive();
          combined = true;
        }
      }
      if (combined) {
        BitSet s =
            leaf(
                new Cond.Leaf(
                    group,
                    base.table(),
                    base.column(),
                    List.of(),
                    lower,
                    lowerInclusive,
                    upper,
                    upperInclusive,
                    -1),
                params);
        if (s != null) {
          result = result == null ? s : and(result, s);
        }
      }
    }
    return result;
  }

  private static boolean greater(ValueRef a, ValueRef b, Tuple params) {
    Object x = resolve(a, params);
    Object y = resolve(b, params);
    return x != null && y != null && io.shardkit.router.impl.analyse.Values.compare(x, y) > 0;
  }

  /** Multi-column strategies: exact when an AND gives EQ/IN values for every column. */
  private BitSet complex(Cond.And and, int group, Tuple params) {
    BitSet result = null;
    for (Cond child : and.children()) {
      if (!(child instanceof Cond.Leaf leaf) || leaf.group() != group || leaf.isRange()) {
        continue;
      }
      TableIndex index = indexes.get(leaf.table());
      for (int level = 0; level < 2; level++) {
        ShardingStrategy strategy =
            (level == 0 ? index.rule.databaseStrategy() : index.rule.tableStrategy()).orElse(null);
        if (strategy == null
            || strategy.isSingleColumn()
            || !strategy.columns().get(0).equals(leaf.column())) {
          continue;
        }
        List<List<Object>> combos = new ArrayList<>();
        combos.add(new ArrayList<>());
        boolean complete = true;
        for (String column : strategy.columns()) {
          List<Object> values =
              valuesOf(and, group, leaf.table(), column, params, strategy.algorithm());
          if (values == null) {
            complete = false;
            break;
          }
          List<List<Object>> next = new ArrayList<>();
          for (List<Object> prefix : combos) {
            for (Object v : values) {
              List<Object> c = new ArrayList<>(prefix);
              c.add(v);
              next.add(c);
            }
          }
          combos = next;
          if (combos.size() > 4096) {
            complete = false;
            break;
          }
        }
        if (!complete) {
          continue;
        }
        Map<String, BitSet> byTarget = level == 0 ? index.byDataSource : index.byTable;
        BitSet out = new BitSet();
        for (List<Object> combo : combos) {
          String target = target(index, strategy, combo, String.join(",", strategy.columns()));
          BitSet nodes = target == null ? null : byTarget.get(target);
          if (nodes != null) {
            out.or(nodes);
          }
        }
        result = result == null ? out : and(result, out);
      }
    }
    return result;
  }

  private List<Object> valuesOf(
      Cond.And and,
      int group,
      String table,
      String column,
      Tuple params,
      io.shardkit.router.spi.ShardingAlgorithm algorithm) {
    for (Cond child : and.children()) {
      if (child instanceof Cond.Leaf leaf
          && leaf.group() == group
          && leaf.table().equals(table)
          && leaf.column().equals(column)
          && !leaf.isRange()) {
        List<Object> out = new ArrayList<>();
        for (ValueRef v : leaf.values()) {
          Object raw = resolve(v, params);
          coercion.refuseFractionalEquality(table, column, raw);
          Object value = coercion.condition(table, column, raw, algorithm);
          if (value == Coercion.ANY) {
            return null;
          }
          if (value != null) {
            out.add(value);
          }
        }
        return out;
      }
    }
    return null;
  }

  static Object resolve(ValueRef ref, Tuple params) {
    try {
      return ref.resolve(params);
    } catch (IllegalArgumentException e) {
      throw new UnsupportedSqlException(List.of(), e.getMessage());
    }
  }

  /** For IN pruning: the nodes a value of an IN leaf can be on; null means any. */
  public BitSet nodesOf(Cond.Leaf leaf, Object value) {
    if (value == null) {
      return null;
    }
    Cond.Leaf eq =
        new Cond.Leaf(
            leaf.group(),
            leaf.table(),
            leaf.column(),
            List.of(ValueRef.literal(value, "")),
            null,
            false,
            null,
            false,
            -1);
    return leaf(eq, null);
  }
}
