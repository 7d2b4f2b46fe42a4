package io.shardkit.router.impl.merge;

import java.util.List;

/**
 * How the rows of several route units become the result of the logical query: which columns are
 * derived (added by the rewrite and hidden), the ORDER BY keys, GROUP BY keys and aggregates,
 * DISTINCT and LIMIT. Built once per statement at plan time.
 *
 * @param derivedCount columns appended by the rewrite, removed from the result
 * @param aggregate whether rows are grouped (GROUP BY or aggregate functions)
 * @param scalar aggregate without GROUP BY: exactly one result row
 * @param groupKeys the GROUP BY keys
 * @param aggregates the aggregate columns to merge
 * @param orderBy the sort keys (each unit returns its rows sorted by them)
 * @param streamingGroup whether rows arrive sorted by the group keys (group adjacent rows)
 * @param sortAfterGroup whether to sort groups by {@code orderBy} after grouping in memory
 * @param distinct SELECT DISTINCT over the visible columns
 * @param having the HAVING condition evaluated on merged groups, or null
 */
public record MergeSpec(
    int derivedCount,
    boolean aggregate,
    boolean scalar,
    List<ColumnRef> groupKeys,
    List<Aggregate> aggregates,
    List<SortKey> orderBy,
    boolean streamingGroup,
    boolean sortAfterGroup,
    boolean distinct,
    Having having) {

  /** Whether rows can simply be concatenated (then k-way merged if ordered) and limited. */
  public boolean isPlain() {
    return !aggregate && !distinct;
  }

  /** Where a column is in a unit's row, resolved when the row width is known. */
  public record ColumnRef(Origin origin, int index) {

    /** Counting base of {@link #index}. */
    public enum Origin {
      /** From the first column. */
      START,
      /** From the last visible column backwards (after a wildcard). */
      END,
      /** The n-th derived column. */
      DERIVED
    }

    public static ColumnRef start(int index) {
      return new ColumnRef(Origin.START, index);
    }

    public static ColumnRef derived(int index) {
      return new ColumnRef(Origin.DERIVED, index);
    }

    /** The absolute column position for rows with this many visible columns. */
    public int resolve(int visible) {
      return switch (origin) {
        case START -> index;
        case END -> visible - 1 - index;
        case DERIVED -> visible + index;
      };
    }
  }

  /** A sort key. */
  public record SortKey(ColumnRef column, boolean descending) {}

  /** Kinds of aggregate merges. */
  public enum AggregateKind {
    COUNT,
    SUM,
    MIN,
    MAX,
    AVG,
    COUNT_DISTINCT,
    SUM_DISTINCT,
    AVG_DISTINCT,
    GROUP_CONCAT,
    GROUP_CONCAT_DISTINCT
  }

  /**
   * How the units' GROUP_CONCAT values are joined.
   *
   * @param separator the SEPARATOR (default {@code ,})
   * @param maxLength the derived column holding the units' {@code @@group_concat_max_len}: the
   *     joined value is cut to that many bytes, as one database would cut it
   * @param text for DISTINCT: the derived column with the argument as text ({@code CONCAT(x)}),
   *     else null
   */
  public record Concat(String separator, ColumnRef maxLength, ColumnRef text) {}

  /**
   * An aggregate column: where its merged value goes and which columns feed it.
   *
   * @param kind the merge
   * @param target the visible or derived column holding the aggregate
   * @param sum for AVG: the derived SUM column
   * @param count for AVG: the derived COUNT column
   * @param distinctValue for DISTINCT aggregates: the derived column with the argument value
   * @param concat for GROUP_CONCAT: separator and derived columns, else null
   */
  public record Aggregate(
      AggregateKind kind,
      ColumnRef target,
      ColumnRef sum,
      ColumnRef count,
      ColumnRef distinctValue,
      Concat concat) {

    public Aggregate(
        AggregateKind kind,
        ColumnRef target,
        ColumnRef sum,
        ColumnRef count,
        ColumnRef distinctValue) {
      this(kind, target, sum, count, distinctValue, null);
    }
  }
}
