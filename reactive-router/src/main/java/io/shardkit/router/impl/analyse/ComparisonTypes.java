package io.shardkit.router.impl.analyse;

/**
 * The type MariaDB compares numbers and strings in, measured on 11.4: an integer with a string as
 * DECIMAL, exactly ({@code 9007199254740993 = '9007199254740992'} is 0), a DECIMAL with a string as
 * DOUBLE ({@code 2.5 = '2.5000000000000001'} is 1), anything with a DOUBLE as DOUBLE. BETWEEN
 * aggregates its three operands left to right: {@code 9007199254740993 BETWEEN '9007199254740992'
 * AND '9007199254740992'} is 1 (the DECIMAL of the first two meets a string), {@code ... BETWEEN
 * 9007199254740992 AND '9007199254740992'} is 0. One exception the types alone do not show: a
 * BIGINT (or YEAR) column compared with constants it holds exactly converts them and compares as
 * integers ({@code bigint_col BETWEEN '1' AND '9007199254740992'} is exact, {@code MAX(bigint_col)
 * BETWEEN ...} is not). Types are bits, so that a set of candidates is an int.
 */
public final class ComparisonTypes {

  public static final int INT = 1;
  public static final int DEC = 2;
  public static final int REAL = 4;
  public static final int STR = 8;

  private ComparisonTypes() {}

  /** The comparison type of two operands of single types. */
  public static int aggregate(int a, int b) {
    if (a == REAL || b == REAL) {
      return REAL;
    }
    if (a == STR && b == STR) {
      return STR;
    }
    if (a == INT && b == INT) {
      return INT;
    }
    if (a == STR || b == STR) {
      return a == DEC || b == DEC ? REAL : DEC;
    }
    return DEC;
  }
}
