package io.shardkit.router.fuzz;

/**
 * How the values of one result column are compared between the router and the reference.
 *
 * @param mode exact, by collation, approximately (floating point) or as GROUP_CONCAT elements
 * @param collation for {@link Mode#COLLATION} and {@link Mode#CONCAT}: the collation that decides
 *     equality; null compares element texts exactly
 * @param separator for {@link Mode#CONCAT}: the GROUP_CONCAT separator
 * @param concatOrdered for {@link Mode#CONCAT}: GROUP_CONCAT has an ORDER BY inside
 * @param shownScale for {@link Mode#APPROX}: the decimals the text protocol rounds the value to (a
 *     variance of an integer or DECIMAL argument: its scale + 4), or -1
 */
record ValueCompare(
    Mode mode, String collation, String separator, boolean concatOrdered, int shownScale) {

  ValueCompare(Mode mode, String collation, String separator, boolean concatOrdered) {
    this(mode, collation, separator, concatOrdered, -1);
  }

  enum Mode {
    /** The same value (numbers by value, strings byte for byte). */
    EXACT,
    /**
     * Equal under the collation: two engines may pick different representatives of a group of
     * collation-equal strings (GROUP BY, DISTINCT, MIN/MAX).
     */
    COLLATION,
    /** Floating point: equal to 9 significant digits (sums in a different order). */
    APPROX,
    /** GROUP_CONCAT: the elements, as a multiset unless ordered, each by collation. */
    CONCAT,
    /**
     * SUM/AVG of an argument with a division: measured on MariaDB 11.4, one server returns the
     * quotients either at their declared scale (dividend scale + 4) or at an internal precision,
     * depending on its plan ({@code AVG(100 / 17.00)} is 5.8824 or 5.88235294), so values are equal
     * when they agree to 3 decimal places.
     */
    DIVISION,
    /**
     * A BIT column or its MIN/MAX: MariaDB sends it as bits or as its decimal digits depending on
     * its plan (grouped through a temporary table or not), and the driver reads those digits as
     * bytes ({@code 17} comes back as {@code 0x3137}); {@code SELECT DISTINCT bit_column} without a
     * LIMIT is even described as an unsigned BIGINT (measured on MariaDB 11.4.5 through Vert.x: a
     * BIT(64) holding 2^63 reads as the Long -9223372036854775808 with {@code LIMIT 10} and as the
     * Numeric 9223372036854775808 without). Values are equal when they denote the same number in
     * any encoding (the last 8 decimal digits, all the driver keeps of the text).
     */
    BITS
  }

  /**
   * Whether equal values may differ in digits this comparison drops ({@link Mode#APPROX}, {@link
   * Mode#DIVISION}): then the order of two such values is each side's own.
   */
  boolean tolerant() {
    return mode == Mode.APPROX || mode == Mode.DIVISION;
  }

  static final ValueCompare EXACT = new ValueCompare(Mode.EXACT, null, null, false);
  static final ValueCompare APPROX = new ValueCompare(Mode.APPROX, null, null, false);
  static final ValueCompare DIVISION = new ValueCompare(Mode.DIVISION, null, null, false);
  static final ValueCompare BITS = new ValueCompare(Mode.BITS, null, null, false);

  /**
   * A floating-point value the text protocol shows rounded to {@code scale} decimals from the
   * double its engine computed: two doubles a few ulps apart on either side of a half at that scale
   * show one unit apart (seed 120: the server's own {@code VARIANCE} of -0.010, -0.010, -0.010,
   * 0.000 is 0.0000187 or 0.0000188 depending on the order it reads the rows, the exact value being
   * 0.00001875; measured on MariaDB 11.4.5).
   */
  static ValueCompare approxShown(int scale) {
    return new ValueCompare(Mode.APPROX, null, null, false, scale);
  }

  static ValueCompare collation(String collation) {
    return collation == null ? EXACT : new ValueCompare(Mode.COLLATION, collation, null, false);
  }

  static ValueCompare concat(String collation, String separator, boolean ordered) {
    return new ValueCompare(Mode.CONCAT, collation, separator, ordered);
  }
}
