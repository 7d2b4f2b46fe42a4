package io.shardkit.router.fuzz;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One column type the generator can give a column: its DDL, its kind (which decides how values are
 * generated and compared) and, for strings, its collation.
 *
 * @param ddl the type as written in CREATE TABLE, without the collation
 * @param kind what its values are
 * @param collation the collation of a string column, null for other kinds
 */
record ColumnType(String ddl, Kind kind, String collation) {

  /** What a column holds. */
  enum Kind {
    INT,
    BIGINT,
    UNSIGNED,
    DECIMAL,
    DOUBLE,
    STRING,
    DATETIME,
    DATE,
    ENUM,
    SET
  }

  static final ColumnType INT = new ColumnType("INT", Kind.INT, null);
  static final ColumnType BIGINT = new ColumnType("BIGINT", Kind.BIGINT, null);
  static final ColumnType BIGINT_UNSIGNED = new ColumnType("BIGINT UNSIGNED", Kind.UNSIGNED, null);
  static final ColumnType DOUBLE = new ColumnType("DOUBLE", Kind.DOUBLE, null);
  static final ColumnType DATETIME = new ColumnType("DATETIME", Kind.DATETIME, null);
  static final ColumnType DATE = new ColumnType("DATE", Kind.DATE, null);
  static final ColumnType ENUM = new ColumnType("ENUM('b','a','c')", Kind.ENUM, null);
  static final ColumnType SET = new ColumnType("SET('y','x','z')", Kind.SET, null);

  static ColumnType decimal(int precision, int scale) {
    return new ColumnType("DECIMAL(" + precision + "," + scale + ")", Kind.DECIMAL, null);
  }

  static ColumnType varchar(String collation) {
    return new ColumnType("VARCHAR(20)", Kind.STRING, collation);
  }

  static ColumnType chars(String collation) {
    return new ColumnType("CHAR(6)", Kind.STRING, collation);
  }

  /** The column definition after the column name. */
  String definition() {
    if (collation == null) {
      return ddl;
    }
    return ddl + " CHARACTER SET " + charset() + " COLLATE " + collation;
  }

  String charset() {
    return collation == null ? null : collation.substring(0, collation.indexOf('_'));
  }

  boolean isNumeric() {
    return switch (kind) {
      case INT, BIGINT, UNSIGNED, DECIMAL, DOUBLE -> true;
      default -> false;
    };
  }

  boolean isString() {
    return kind == Kind.STRING;
  }

  boolean isChar() {
    return ddl.startsWith("CHAR");
  }

  /** A short tag for column names and reports, e.g. {@code dec}, {@code str}. */
  String tag() {
    return switch (kind) {
      case INT -> "int";
      case BIGINT -> "big";
      case UNSIGNED -> "ubig";
      case DECIMAL -> "dec";
      case DOUBLE -> "dbl";
      case STRING -> isChar() ? "chr" : "str";
      case DATETIME -> "dt";
      case DATE -> "d";
      case ENUM -> "enum";
      case SET -> "set";
    };
  }

  /**
   * The values rows take, with duplicates and NULL: what real users store (accents, case, trailing
   * spaces, negative numbers, the ends of each integer range).
   */
  List<Object> interestingValues() {
    List<Object> out = new ArrayList<>();
    out.add(null);
    switch (kind) {
      case INT -> add(out, -17L, -1L, 0L, 1L, 2L, 3L, 7L, 17L, 17L, 42L, 100L, 2147483647L);
      case BIGINT ->
          add(out, Long.MIN_VALUE, -5L, 0L, 5L, 17L, 17L, 1_000_000_000_000L, Long.MAX_VALUE);
      case UNSIGNED ->
          add(
              out,
              BigInteger.ZERO,
              BigInteger.ONE,
              BigInteger.valueOf(17),
              new BigInteger("9223372036854775808"),
              new BigInteger("18446744073709551615"));
      case DECIMAL -> out.addAll(decimals());
      case DOUBLE -> add(out, -1.5, 0.0, 0.1, 0.1, 2.5, 3.25, 1e10);
      case STRING -> out.addAll(strings());
      case DATETIME ->
          add(
              out,
              LocalDateTime.of(2024, 1, 15, 10, 0),
              LocalDateTime.of(2024, 1, 15, 10, 0),
              LocalDateTime.of(2024, 2, 29, 23, 59, 59),
              LocalDateTime.of(2023, 12, 31, 0, 0),
              LocalDateTime.of(2024, 3, 1, 0, 0));
      case DATE ->
          add(
              out,
              LocalDate.of(2024, 1, 15),
              LocalDate.of(2024, 1, 15),
              LocalDate.of(2024, 2, 29),
              LocalDate.of(1999, 12, 31));
      case ENUM -> add(out, "a", "b", "c", "b");
      case SET -> add(out, "", "x", "y", "x,z", "y,z", "y,x,z");
    }
    return out;
  }

  private List<Object> decimals() {
    int open = ddl.indexOf('(');
    int comma = ddl.indexOf(',');
    int precision = Integer.parseInt(ddl.substring(open + 1, comma));
    int scale = Integer.parseInt(ddl.substring(comma + 1, ddl.length() - 1));
    BigDecimal max =
        BigDecimal.TEN.pow(precision - scale).subtract(BigDecimal.ONE.movePointLeft(scale));
    List<Object> out = new ArrayList<>();
    for (String s : List.of("-12.5", "0", "1.5", "1.50", "3.333", "-0.01", "17")) {
      BigDecimal d = new BigDecimal(s);
      if (d.abs().compareTo(max) <= 0) {
        out.add(d.setScale(scale, java.math.RoundingMode.HALF_UP));
      }
    }
    out.add(max);
    out.add(max.negate());
    return out;
  }

  private List<Object> strings() {
    List<Object> out = new ArrayList<>();
    for (String s :
        List.of(
            "Zürich", "zurich", "ZURICH", "Zurich ", "Åsa", "åsa", "Asa", "émile", "Émile", "emile",
            "a ", "a", "A", "b", "", "ß", "ss", "017", " 17", "zz")) {
      int max = isChar() ? 6 : 20;
      String v = s.length() > max ? s.substring(0, max) : s;
      out.add(isChar() ? v.stripTrailing() : v);
    }
    return out;
  }

  private static void add(List<Object> out, Object... values) {
    out.addAll(List.of(values));
  }

  @Override
  public String toString() {
    return definition().toLowerCase(Locale.ROOT);
  }
}
