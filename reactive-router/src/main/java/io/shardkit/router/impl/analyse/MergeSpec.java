package io.shardkit.router.impl.analyse;

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
 * @param distinctKeys for DISTINCT: per visible column before the first wildcard, where its sort
 *     key is (visible columns past this list have none)
 */
public record MergeSpec(
    int derivedCount,
    boolean aggregate,
    boolean scalar,
    List<Key> groupKeys,
    List<Aggregate> aggregates,
    List<SortKey> orderBy,
    boolean streamingGroup,
    boolean sortAfterGroup,
    boolean distinct,
    Having having,
    List<Key> distinctKeys) {

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

  /**
   * A value the merge compares, and where the units put its sort key in the server's collation
   * ({@code WEIGHT_STRING}) and the collation's space weight when it pads (see {@link Collated}).
   *
   * @param column the value
   * @param weight the derived sort key column, or null when the value is never a string; for a
   *     FLOAT value the derived {@code value + 0e0}, its exact value as a double (the text protocol
   *     sends a FLOAT with 6 significant digits: 123456.79 and 123456.8 both read 123457)
   * @param pad the derived space-weight column (NULL in rows under NO PAD collations), or null
   * @param ordinals for an ENUM or SET value: its members, which order it (sorting, grouping and
   *     DISTINCT); MIN/MAX still compare such values by text, with the sort key
   * @param unsigned for a BIT value: the driver decodes it as a signed long, the server orders it
   *     as an unsigned 64-bit number
   */
  public record Key(
      ColumnRef column, ColumnRef weight, ColumnRef pad, Ordinals ordinals, boolean unsigned) {

    public Key(ColumnRef column, ColumnRef weight, ColumnRef pad, Ordinals ordinals) {
      this(column, weight, pad, ordinals, false);
    }

    public Key(ColumnRef column, ColumnRef weight, ColumnRef pad) {
      this(column, weight, pad, null, false);
    }

    /** A key without sort key columns (numbers, dates, or a column the plan cannot name). */
    public static Key of(ColumnRef column) {
      return new Key(column, null, null, null, false);
    }

    /** A BIT value: compared as an unsigned 64-bit number. */
    public static Key bits(ColumnRef column) {
      return new Key(column, null, null, null, true);
    }

    /** The key's positions for rows with this many visible columns. */
    public Resolved resolve(int visible) {
      return new Resolved(
          column.resolve(visible),
          weight == null ? -1 : weight.resolve(visible),
          pad == null ? -1 : pad.resolve(visible),
          ordinals,
          unsigned);
    }
  }

  /** A {@link Key} at absolute positions; -1 for absent sort key columns. */
  public record Resolved(int column, int weight, int pad, Ordinals ordinals, boolean unsigned) {

    public Resolved(int column, int weight, int pad) {
      this(column, weight, pad, null, false);
    }

    /**
     * The value to order and group by: an ENUM/SET value's ordinal, a BIT value read unsigned, else
     * the value.
     */
    public Object ordered(Object value) {
      if (unsigned) {
        return unsignedBits(value);
      }
      return ordinals != null && value instanceof String s ? (Object) ordinals.ordinal(s) : value;
    }
  }

  /** A BIT value as the server orders it: the driver's (signed) long read as unsigned. */
  public static Object unsignedBits(Object value) {
    return value instanceof Long l && l < 0
        ? new java.math.BigInteger(Long.toUnsignedString(l))
        : value;
  }

  /** A sort key. */
  public record SortKey(Key key, boolean descending) {

    /** The sorted value's column. */
    public ColumnRef column() {
      return key.column();
    }
  }

  /**
   * The derived columns of a variance besides SUM and COUNT.
   *
   * @param varPop the unit's {@code VAR_POP(x) * 1e0}, unrounded on every protocol
   * @param probe {@code PI()}: the text protocol sends it rounded to its 6 decimals, as it rounds a
   *     variance of an exact argument to that argument's scale + 4; the binary protocol sends both
   *     unrounded
   * @param min the unit's {@code MIN(x + 0e0)}: when all rows hold one value, the server's variance
   *     is exactly 0, which the partial means (sums divided in double) need not reproduce
   * @param max the unit's {@code MAX(x + 0e0)}
   * @param bits the argument is a BIT column: its mean comes from {@code SUM(x + 0e0)} (the
   *     variance reads BIT values as signed doubles, SUM as unsigned integers), and the server
   *     rounds its variance as an integer argument's (4 decimals on the text protocol)
   */
  public record SpreadColumns(
      ColumnRef varPop, ColumnRef probe, ColumnRef min, ColumnRef max, boolean bits) {}

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
    GROUP_CONCAT_DISTINCT,
    /** VAR_POP, VARIANCE: from the units' COUNT, SUM and VAR_POP (see {@link Spread}). */
    VAR_POP,
    /** VAR_SAMP. */
    VAR_SAMP,
    /** STD, STDDEV, STDDEV_POP. */
    STDDEV_POP,
    /** STDDEV_SAMP. */
    STDDEV_SAMP,
    /** BIT_AND: AND of the units' results (all bits set for no rows). */
    BIT_AND,
    /** BIT_OR: OR of the units' results (0 for no rows). */
    BIT_OR,
    /** BIT_XOR: XOR of the units' results (0 for no rows). */
    BIT_XOR,
    /** COUNT(DISTINCT a, b, ...): distinct tuples without NULLs over the units' values. */
    COUNT_DISTINCT_TUPLE,
    /** An expression over merged aggregates, evaluated after them (see {@link Scalar}). */
    EXPRESSION
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
   * @param compared what the merge compares: for MIN/MAX the target with its sort key, for DISTINCT
   *     aggregates the distinct value with its sort key; null for the others
   * @param spread for the variance kinds: the derived {@code VAR_POP(x) * 1e0} column (with {@code
   *     sum} and {@code count}), else null
   * @param expression for {@link AggregateKind#EXPRESSION}: the expression over merged columns
   * @param tuple for {@link AggregateKind#COUNT_DISTINCT_TUPLE}: the derived argument values with
   *     their sort keys, else null
   */
  public record Aggregate(
      AggregateKind kind,
      ColumnRef target,
      ColumnRef sum,
      ColumnRef count,
      ColumnRef distinctValue,
      Concat concat,
      Key compared,
      SpreadColumns spread,
      Scalar expression,
      List<Key> tuple) {

    public Aggregate(
        AggregateKind kind,
        ColumnRef target,
        ColumnRef sum,
        ColumnRef count,
        ColumnRef distinctValue,
        Concat concat,
        Key compared,
        SpreadColumns spread,
        Scalar expression) {
      this(kind, target, sum, count, distinctValue, concat, compared, spread, expression, null);
    }

    public Aggregate(
        AggregateKind kind,
        ColumnRef target,
        ColumnRef sum,
        ColumnRef count,
        ColumnRef distinctValue,
        Concat concat,
        Key compared) {
      this(kind, target, sum, count, distinctValue, concat, compared, null, null);
    }

    public Aggregate(
        AggregateKind kind,
        ColumnRef target,
        ColumnRef sum,
        ColumnRef count,
        ColumnRef distinctValue) {
      this(kind, target, sum, count, distinctValue, null, null);
    }
  }
}
