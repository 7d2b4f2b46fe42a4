package io.shardkit.router.impl.route;

import io.shardkit.router.impl.parse.ValueRef;
import java.util.List;

/**
 * The sharding-relevant part of a WHERE clause: AND/OR of comparisons of sharding columns with
 * values. Everything else is {@link Any} (it can match rows on every node).
 */
public sealed interface Cond {

  /** Matches rows anywhere. */
  Cond ANY = new Any();

  /** Conjunction. */
  record And(List<Cond> children) implements Cond {}

  /** Disjunction. */
  record Or(List<Cond> children) implements Cond {}

  /** Unknown or irrelevant to sharding. */
  record Any() implements Cond {}

  /**
   * {@code column = v}, {@code column IN (v...)} (op EQ with several values) or a range.
   *
   * @param group the routing group (binding group) the column's table belongs to
   * @param table the logical table
   * @param column the column, lower case
   * @param values the values for EQ/IN, empty for a range
   * @param lower the lower bound of a range or null
   * @param lowerInclusive whether the lower bound is included
   * @param upper the upper bound or null
   * @param upperInclusive whether the upper bound is included
   * @param inSlot the IN-list slot of the template to prune per unit, or -1
   * @param between the range is one {@code BETWEEN}, whose three operands the server compares in
   *     one aggregated type (see {@link io.shardkit.router.impl.analyse.ComparisonTypes})
   */
  record Leaf(
      int group,
      String table,
      String column,
      List<ValueRef> values,
      ValueRef lower,
      boolean lowerInclusive,
      ValueRef upper,
      boolean upperInclusive,
      int inSlot,
      boolean between)
      implements Cond {

    Leaf(
        int group,
        String table,
        String column,
        List<ValueRef> values,
        ValueRef lower,
        boolean lowerInclusive,
        ValueRef upper,
        boolean upperInclusive,
        int inSlot) {
      this(
          group,
          table,
          column,
          values,
          lower,
          lowerInclusive,
          upper,
          upperInclusive,
          inSlot,
          false);
    }

    public boolean isRange() {
      return values.isEmpty();
    }
  }
}
