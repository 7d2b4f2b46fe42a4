package io.shardkit.router.impl.route;

import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.algorithm.CollationKey;
import io.shardkit.router.impl.algorithm.CollationKeyed;
import io.shardkit.router.impl.analyse.ComparisonTypes;
import io.shardkit.router.impl.parse.ValueRef;
import io.shardkit.router.impl.schema.CollationWeights;
import io.shardkit.router.impl.schema.ColumnInfo;
import io.shardkit.router.impl.schema.MysqlValues;
import io.shardkit.router.impl.schema.SchemaCatalog;
import io.shardkit.router.spi.ShardingAlgorithm;
import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.LocalDateTime;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Sharding values converted by the column's type with MySQL's own rules before an algorithm sees
 * them.
 *
 * <p>Why: the server compares {@code int_col = '017'} as the number 17 (a string and a number
 * compare as doubles), and {@code datetime_col = '2026/3/1'} as a datetime, while an algorithm
 * given the raw text hashes {@code "017"} or fails to read the date. For a condition, a value whose
 * comparison could match rows of several sharding values ({@code '17.5'} against integers, {@code
 * 123} against a string column, {@code '9007199254740993'} beyond a double's precision) is routed
 * everywhere, which is always exact because each shard evaluates the condition itself. For an
 * INSERT, where one node must be chosen, such a value is refused with the column and the value
 * named. Without schema metadata for the table, values pass through unchanged.
 */
final class Coercion {

  /** A condition value that may match rows of several sharding values: route everywhere. */
  static final Object ANY = new Object();

  private static final BigDecimal DOUBLE_EXACT = BigDecimal.valueOf(1L << 53);
  private static final Pattern STRICT_INTEGER = Pattern.compile("^\\s*[+-]?\\d+\\s*$");

  private final SchemaCatalog catalog;

  Coercion(SchemaCatalog catalog) {
    this.catalog = catalog;
  }

  private ColumnInfo column(String table, String column) {
    return catalog == null ? null : catalog.schema().column(table, column).orElse(null);
  }

  /**
   * The sharding value of the rows {@code table.column = value} matches, as the algorithm receives
   * it, or {@link #ANY}.
   */
  Object condition(String table, String column, Object value, ShardingAlgorithm algorithm) {
    ColumnInfo info = column(table, column);
    if (value == null) {
      return null;
    }
    if (info == null) {
      // a hash of a value depends on the column's type (a string column hashes the collation's
      // sort key): without the type, any node may hold the rows
      return algorithm instanceof CollationKeyed ? ANY : value;
    }
    return switch (info.kind()) {
      case INTEGER -> integerForComparison(value);
      case SET -> algorithm instanceof CollationKeyed ? ANY : value;
      case STRING, ENUM -> {
        if (!(value instanceof String s)) {
          // a number compares numerically ('0123' = 123), other types by their own rules
          yield ANY;
        }
        if (!(algorithm instanceof CollationKeyed)) {
          yield s;
        }
        byte[] key = sortKey(info, s);
        yield key == null ? ANY : new CollationKey(key, s);
      }
      case BINARY -> algorithm instanceof CollationKeyed ? binaryKey(info, value, ANY) : value;
      case DATE, DATETIME -> {
        Object t = temporal(info, value);
        yield t == null ? ANY : t;
      }
      case DECIMAL -> decimalForComparison(info, value);
      case FLOAT -> floatingForComparison(value);
      case YEAR -> {
        Object y = year(value);
        yield y == null ? ANY : y;
      }
      case TIME -> {
        Object t = time(value);
        yield t == null ? ANY : t;
      }
      // a string compared with a BIT matches by neither its bytes nor its number in every form
      case BIT -> value instanceof String ? ANY : integerForComparison(value);
      case JSON, OTHER -> {
        if (info.isUuid()) {
          String u = uuid(value);
          yield u == null ? ANY : u;
        }
        // INET6, INET4, spatial, MySQL's JSON: the server compares normalized values (2001:DB8::1
        // = 2001:db8:0::1) the router does not compute
        yield algorithm instanceof CollationKeyed ? ANY : value;
      }
      default -> value;
    };
  }

  /**
   * A UUID in MariaDB's stored text (lower case, 8-4-4-4-12), from a {@link java.util.UUID} or a
   * string of 32 hex digits with hyphens anywhere between them, the forms the server reads; null
   * for anything else (routed everywhere in a condition, refused in an INSERT).
   */
  static String uuid(Object value) {
    if (value instanceof java.util.UUID u) {
      return u.toString();
    }
    if (!(value instanceof String s) || !UUID_TEXT.matcher(s).matches()) {
      return null;
    }
    String hex = s.replace("-", "").toLowerCase(java.util.Locale.ROOT);
    return hex.substring(0, 8)
        + "-"
        + hex.substring(8, 12)
        + "-"
        + hex.substring(12, 16)
        + "-"
        + hex.substring(16, 20)
        + "-"
        + hex.substring(20);
  }

  private static final Pattern UUID_TEXT = Pattern.compile("^[0-9a-fA-F](?:-*[0-9a-fA-F]){31}$");

  /**
   * A TIME value as a Duration, the way a TIME key is hashed and read back: a Duration, a LocalTime
   * or a string {@code [-]H:MM[:SS[.ffffff]]} within the column's range; null for other forms
   * ({@code 'D HH:MM:SS'}, the number {@code 123000}), which a condition routes everywhere and an
   * INSERT refuses.
   */
  static java.time.Duration time(Object value) {
    java.time.Duration d;
    if (value instanceof java.time.Duration x) {
      d = x;
    } else if (value instanceof java.time.LocalTime t) {
      d = java.time.Duration.ofNanos(t.toNanoOfDay());
    } else if (value instanceof String s && TIME_TEXT.matcher(s).matches()) {
      d = MysqlValues.time(s);
    } else {
      return null;
    }
    return d == null || d.abs().compareTo(TIME_MAX) >= 0 ? null : d;
  }

  /** Minutes and seconds below 60 (the server reads '12:75' otherwise). */
  private static final Pattern TIME_TEXT =
      Pattern.compile("^\\s*-?\\d{1,3}:[0-5]?\\d(:[0-5]?\\d(\\.\\d{1,6})?)?\\s*$");

  private static final java.time.Duration TIME_MAX = java.time.Duration.ofHours(839);

  /**
   * A DECIMAL column compares exactly with an integer or decimal literal, and as a double with a
   * double, a string (routed everywhere) or a decimal parameter (sent as text): a double matches
   * the stored value whose double it is, which for at most 15 digits is one value, the double
   * rounded to the column's scale.
   */
  private static Object decimalForComparison(ColumnInfo info, Object value) {
    if (value instanceof String) {
      return ANY;
    }
    if (value instanceof Double || value instanceof Float) {
      double x = ((Number) value).doubleValue();
      int[] ps = precisionScale(info);
      if (!Double.isFinite(x) || ps == null || ps[0] > 15) {
        return ANY;
      }
      BigDecimal r = new BigDecimal(x).setScale(ps[1], java.math.RoundingMode.HALF_EVEN);
      return r.doubleValue() == x ? r : ANY;
    }
    if (value instanceof Boolean b) {
      return b ? BigDecimal.ONE : BigDecimal.ZERO;
    }
    BigDecimal d = decimal(value);
    if (d == null) {
      return value;
    }
    if (value instanceof BigDecimal || value instanceof BigInteger || value instanceof Numeric) {
      // the client sends these as their text when they are parameters, and the server compares a
      // DECIMAL with a string as doubles (? = 1.0100000000000000001 holds for 1.01): the exact
      // and the double reading name the same stored value only when the value has no more
      // decimals than the column and at most 15 digits
      int[] ps = precisionScale(info);
      BigDecimal stripped = d.stripTrailingZeros();
      if (ps == null
          || ps[0] > 15
          || stripped.scale() > ps[1]
          || stripped.precision() - Math.min(0, stripped.scale()) > 15) {
        return ANY;
      }
    }
    return d;
  }

  /**
   * A FLOAT or DOUBLE column compares with a number as doubles ({@code k = 9007199254740993} holds
   * for the stored 2^53, {@code k = 0.1000000000000000055} for 0.1): the value is the double it
   * reads as. Strings route everywhere.
   */
  private static Object floatingForComparison(Object value) {
    if (value instanceof String || !(value instanceof Number)) {
      return value instanceof Boolean b ? (b ? 1.0 : 0.0) : ANY;
    }
    double x =
        value instanceof Numeric n ? n.bigDecimalValue().doubleValue() : asDouble((Number) value);
    return Double.isFinite(x) ? x : ANY;
  }

  private static double asDouble(Number n) {
    if (n instanceof BigDecimal d) {
      return d.doubleValue();
    }
    if (n instanceof BigInteger i) {
      return i.doubleValue();
    }
    return n.doubleValue();
  }

  /**
   * The year a YEAR column holds for a value, as the server converts it for a comparison or an
   * INSERT: 1901..2155 and 0 as they are, 1..69 as 2001..2069 and 70..99 as 1970..1999, and a
   * string of one or two digits by the same rule, so {@code '0'} and {@code '00'} are 2000 (the
   * number 0 stays 0000). Null for anything else (fractions, other ranges, other types).
   */
  static Long year(Object value) {
    long n;
    boolean text = false;
    if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte) {
      n = ((Number) value).longValue();
    } else if (value instanceof String s && YEAR_TEXT.matcher(s).matches()) {
      String digits = s.strip();
      text = digits.length() <= 2;
      n = Long.parseLong(digits);
    } else {
      return null;
    }
    if (n == 0) {
      return text ? 2000L : 0L;
    }
    if (n >= 1 && n <= 69) {
      return 2000 + n;
    }
    if (n >= 70 && n <= 99) {
      return 1900 + n;
    }
    return n >= 1901 && n <= 2155 ? n : null;
  }

  private static final Pattern YEAR_TEXT = Pattern.compile("^\\s*\\d{1,4}\\s*$");

  /** {precision, scale} of a {@code decimal(p,s)} column type, or null. */
  private static int[] precisionScale(ColumnInfo info) {
    java.util.regex.Matcher m = DECIMAL_TYPE.matcher(info.columnType());
    if (!m.find()) {
      return null;
    }
    return new int[] {
      Integer.parseInt(m.group(1)), m.group(2) == null ? 0 : Integer.parseInt(m.group(2))
    };
  }

  private static final Pattern DECIMAL_TYPE = Pattern.compile("^decimal\\((\\d+)(?:,(\\d+))?\\)");

  private static final Pattern DECIMAL_TEXT =
      Pattern.compile("^\\s*[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?\\s*$");

  /** A plain number written as text ({@code ' +1.5e3'}), or null for anything else. */
  private static BigDecimal decimalText(String s) {
    if (!DECIMAL_TEXT.matcher(s).matches()) {
      return null;
    }
    String t = s.strip();
    return new BigDecimal(t.startsWith("+") ? t.substring(1) : t);
  }

  /**
   * Refuses {@code int_col = v} / {@code IN (..., v)} with a finite non-integer {@code v} ({@code
   * 2.5}, {@code '2.5'}, a fractional parameter). Measured on MariaDB 10.11 and 11.4: a table scan
   * rounds the value to the column's type ({@code k = 2.5} matches 3) while an index lookup matches
   * nothing, so the one database's answer depends on its plan and no merge can reproduce it. Ranges
   * ({@code k > 2.5}) are not affected and stay routed.
   */
  void refuseFractionalEquality(String table, String column, Object value) {
    ColumnInfo info = column(table, column);
    if (info != null && value != null) {
      refuseFinerTemporal(table, column, info, value);
      // also a parameter: a BigDecimal 1.005, sent as text, found 1.01 too (seed 144)
      refuseFinerDecimal(table, column, info, value);
    }
    if (info == null || value == null || info.kind() != ColumnInfo.Kind.INTEGER) {
      return;
    }
    double x;
    if (value instanceof String s) {
      x = MysqlValues.doubleOf(s);
    } else if (value instanceof Double || value instanceof Float) {
      x = ((Number) value).doubleValue();
    } else {
      BigDecimal d = decimal(value);
      if (d == null || d.stripTrailingZeros().scale() <= 0) {
        return;
      }
      x = 0.5; // fractional
    }
    if (Double.isFinite(x) && x != Math.rint(x)) {
      throw new UnsupportedSqlException(
          List.of(table),
          "cannot answer "
              + table
              + "."
              + column
              + " = "
              + (value instanceof String ? "'" + value + "'" : String.valueOf(value))
              + " exactly: "
              + column
              + " is "
              + info.columnType()
              + " and the value is not an integer; MariaDB answers this comparison by its plan (a"
              + " table scan rounds the value, an index lookup matches nothing), so there is no"
              + " single answer to reproduce. Compare with an integer or a range");
    }
  }

  /**
   * Refuses {@code k = v} / {@code IN (..., v)} on a DATE, DATETIME(n), TIMESTAMP(n) or TIME(n) key
   * with a value finer than the column: a time of day for a DATE, more fractional digits than
   * {@code n}. Measured on MariaDB 11.4.5: {@code time_k IN ('12:30:00.400000')} finds the stored
   * 12:30:00 through the index of a one-row table and not in a table scan or in a larger table
   * (fuzz gen 3, seed 142), as {@code int_k = 2.5} does; there is no single answer to reproduce.
   */
  private static void refuseFinerTemporal(
      String table, String column, ColumnInfo info, Object value) {
    boolean finer;
    switch (info.kind()) {
      case DATE -> {
        LocalDateTime t = MysqlValues.dateTime(value);
        finer = t != null && !t.toLocalTime().equals(java.time.LocalTime.MIDNIGHT);
      }
      case DATETIME -> {
        LocalDateTime t = MysqlValues.dateTime(value);
        finer = t != null && t.getNano() % fractionUnit(info) != 0;
      }
      case TIME -> {
        java.time.Duration d = time(value);
        finer = d != null && d.abs().getNano() % fractionUnit(info) != 0;
      }
      default -> finer = false;
    }
    if (finer) {
      throw answeredByPlan(
          table,
          column,
          info,
          value,
          "the value is finer than it (a time of day, or more fractional seconds)",
          "an index lookup cuts the value to the column's type, a table scan does not",
          "precision");
    }
  }

  /**
   * The refusal of {@code table.column = value} that MariaDB answers by its plan: {@code why} the
   * value does not fit the column, {@code how} the plans differ, {@code fit} what to compare with.
   */
  private static UnsupportedSqlException answeredByPlan(
      String table,
      String column,
      ColumnInfo info,
      Object value,
      String why,
      String how,
      String fit) {
    return new UnsupportedSqlException(
        List.of(table),
        "cannot answer "
            + table
            + "."
            + column
            + " = "
            + quoted(value)
            + " exactly: "
            + column
            + " is "
            + info.columnType()
            + " and "
            + why
            + "; MariaDB answers this comparison by its plan ("
            + how
            + "), so there is no single answer to reproduce. Compare with a value of the column's "
            + fit
            + " or a range");
  }

  /**
   * Refuses {@code k = v} / {@code IN (..., v)} on a DECIMAL(p,s) key with a value of more than s
   * decimals, a literal or a parameter: on MariaDB 11.4.5 {@code decimal_k IN (1.005)} (and {@code
   * IN (?)} with a BigDecimal 1.005) found the stored 1.01 on one database and not on the shard
   * holding it (fuzz gen 3, seed 144), as {@code int_k = 2.5} depends on the plan; there is no
   * single answer to reproduce.
   */
  private static void refuseFinerDecimal(
      String table, String column, ColumnInfo info, Object value) {
    if (info.kind() != ColumnInfo.Kind.DECIMAL) {
      return;
    }
    int[] ps = precisionScale(info);
    BigDecimal d;
    if (value instanceof String s) {
      d = decimalText(s);
    } else if (value instanceof Double || value instanceof Float) {
      double x = ((Number) value).doubleValue();
      d = Double.isFinite(x) ? BigDecimal.valueOf(x) : null;
    } else {
      d = decimal(value);
    }
    if (ps == null || d == null || d.stripTrailingZeros().scale() <= ps[1]) {
      return;
    }
    throw answeredByPlan(
        table,
        column,
        info,
        value,
        "the value has more decimals than it",
        "an index lookup may round the value to the column's scale",
        "scale");
  }

  /** 10^(9 - n) for a column with n fractional digits (0 when the type names none). */
  private static int fractionUnit(ColumnInfo info) {
    java.util.regex.Matcher m = FRACTION_DIGITS.matcher(info.columnType());
    int digits = m.find() ? Integer.parseInt(m.group(1)) : 0;
    return (int) Math.pow(10, 9 - digits);
  }

  /**
   * Whether {@code table.column BETWEEN lower AND upper} on an integer column compares as doubles
   * where exact bounds would answer differently. MariaDB aggregates the three operands' types left
   * to right ({@link ComparisonTypes}): a DECIMAL or DOUBLE bound meeting a string (the client
   * sends a String, BigInteger or BigDecimal parameter as text), two strings, or a DOUBLE make a
   * DOUBLE comparison, in which {@code k BETWEEN '1' AND ?} with a BigInteger 2^53 holds for k =
   * 2^53 + 1 (measured on MariaDB 11.4: a table scan compares so; an index range reads exact
   * bounds). The router's exact bounds would skip the node holding such a key: the range routes
   * everywhere.
   */
  boolean betweenAsDoubles(
      String table,
      String column,
      ValueRef lowerRef,
      Object lower,
      ValueRef upperRef,
      Object upper) {
    ColumnInfo info = column(table, column);
    if (info == null || info.kind() != ColumnInfo.Kind.INTEGER || lower == null || upper == null) {
      return false;
    }
    int a = comparisonType(lowerRef, lower);
    int b = comparisonType(upperRef, upper);
    if (a == 0 || b == 0) {
      return true; // not known: route everywhere
    }
    if (ComparisonTypes.aggregate(ComparisonTypes.aggregate(ComparisonTypes.INT, a), b)
        != ComparisonTypes.REAL) {
      return false;
    }
    return inexact(lower, true) || inexact(upper, false);
  }

  /** The comparison type of a BETWEEN bound as the server receives it, or 0 when not known. */
  private static int comparisonType(ValueRef ref, Object v) {
    if (v instanceof Double || v instanceof Float) {
      return ComparisonTypes.REAL;
    }
    if (v instanceof String) {
      return ComparisonTypes.STR;
    }
    if (ref.isParam()) {
      if (v instanceof BigInteger || v instanceof BigDecimal || v instanceof Numeric) {
        return ComparisonTypes.STR; // the client sends these as their text
      }
      return v instanceof Long
              || v instanceof Integer
              || v instanceof Short
              || v instanceof Byte
              || v instanceof Boolean
          ? ComparisonTypes.INT
          : 0;
    }
    if (v instanceof Long) {
      return ComparisonTypes.INT;
    }
    if (v instanceof BigDecimal d) {
      String text = ref.text() == null ? "" : ref.text();
      if (text.indexOf('e') >= 0 || text.indexOf('E') >= 0) {
        return ComparisonTypes.REAL;
      }
      return d.scale() > 0 || d.toBigInteger().bitLength() > 64
          ? ComparisonTypes.DEC
          : ComparisonTypes.INT;
    }
    return 0;
  }

  /**
   * Whether comparing integers with the bound as doubles differs from comparing them exactly:
   * beyond 2^53 integers round, and below it a bound whose double crosses an integer ({@code
   * '2.99999999999999999'} is 3.0) moves the range.
   */
  private static boolean inexact(Object bound, boolean lower) {
    BigDecimal exact;
    if (bound instanceof String s) {
      exact = MysqlValues.decimalOf(s);
    } else if (bound instanceof Boolean) {
      return false;
    } else if (bound instanceof Long
        || bound instanceof Integer
        || bound instanceof Short
        || bound instanceof Byte) {
      exact = BigDecimal.valueOf(((Number) bound).longValue());
    } else {
      exact = decimal(bound);
      if (exact == null) {
        return !(bound instanceof Number);
      }
    }
    if (exact.abs().compareTo(DOUBLE_EXACT) >= 0) {
      return true;
    }
    BigDecimal asDouble = new BigDecimal(exact.doubleValue());
    java.math.RoundingMode mode =
        lower ? java.math.RoundingMode.CEILING : java.math.RoundingMode.FLOOR;
    return exact.setScale(0, mode).compareTo(asDouble.setScale(0, mode)) != 0;
  }

  /**
   * A bound of a range condition ({@code <}, {@code BETWEEN}, ...) on {@code table.column}, or
   * {@link #ANY}. Strings order by collation ({@code '10' < '9'}), not as numbers or dates: a range
   * on a text column, or a string bound on a column of unknown type, may match any node.
   */
  Object bound(String table, String column, Object value, ShardingAlgorithm algorithm) {
    ColumnInfo info = column(table, column);
    if (value != null
        && (info == null && value instanceof String s && !dateLike(s)
            || info != null
                && (info.kind() == ColumnInfo.Kind.STRING
                    || info.kind() == ColumnInfo.Kind.BINARY))) {
      return ANY;
    }
    return condition(table, column, value, algorithm);
  }

  /**
   * The value an INSERT stores in {@code table.column}, as the algorithm receives it; refused when
   * it cannot be told exactly.
   */
  Object insert(String table, String column, Object value, ShardingAlgorithm algorithm) {
    ColumnInfo info = column(table, column);
    if (value == null) {
      return null;
    }
    if (info == null) {
      if (algorithm instanceof CollationKeyed) {
        throw new UnsupportedSqlException(
            List.of(table),
            noNode(table, column, null, value)
                + ": the column's type is not known (the table's metadata could not be read from"
                + " its shard), and a hashed key's node depends on it (a text column hashes the"
                + " value's sort key in its collation); retry when the shard answers");
      }
      return value;
    }
    Object out =
        switch (info.kind()) {
          case INTEGER -> integerForInsert(value);
          case SET -> algorithm instanceof CollationKeyed ? null : value;
          case STRING, ENUM -> {
            boolean keyed = algorithm instanceof CollationKeyed;
            if (info.kind() == ColumnInfo.Kind.ENUM && !keyed) {
              yield value;
            }
            Object text =
                value instanceof Double || value instanceof Float
                    ? null
                    : value instanceof Numeric n
                        ? n.bigDecimalValue().toPlainString()
                        : value instanceof BigDecimal d ? d.toPlainString() : value;
            if (!keyed || text == null) {
              yield text;
            }
            if (info.kind() == ColumnInfo.Kind.ENUM && !(value instanceof String)) {
              // a number stores the member at that position
              yield null;
            }
            if (value instanceof Long
                || value instanceof Integer
                || value instanceof Short
                || value instanceof Byte
                || value instanceof BigInteger) {
              text = value.toString(); // stored as its decimal text
            }
            if (!(text instanceof String s)) {
              yield null;
            }
            byte[] key = sortKey(info, s);
            if (key == null) {
              throw new UnsupportedSqlException(
                  List.of(table),
                  noNode(table, column, null, value)
                      + " under collation "
                      + info.collation()
                      + ": "
                      + whyNoKey(info, s));
            }
            yield new CollationKey(key, s);
          }
          case BINARY -> algorithm instanceof CollationKeyed ? binaryKey(info, value, null) : value;
          case DATE, DATETIME -> storedTemporal(info, value, algorithm);
          case DECIMAL -> storedDecimal(info, value);
          case FLOAT -> storedFloating(info, value);
          case YEAR -> year(value);
          case TIME -> storedTime(info, value, algorithm);
          // a string stores its bytes in a BIT column ('7' stores 55)
          case BIT -> value instanceof String ? null : integerForInsert(value);
          case JSON, OTHER ->
              info.isUuid() ? uuid(value) : algorithm instanceof CollationKeyed ? null : value;
          default -> value;
        };
    if (out == null) {
      throw new UnsupportedSqlException(
          List.of(table), noNode(table, column, info.columnType(), value) + whyNotStored(info));
    }
    return out;
  }

  /**
   * The DECIMAL an INSERT stores: the value rounded half away from zero to the column's scale
   * ({@code 1.005} is stored as 1.01 in a DECIMAL(10,2), {@code '01.50'} as 1.50), so that the row
   * is where a read of the stored value looks. A double is taken when its shortest digits fit the
   * scale (the server's own conversion of other doubles is not reproduced); other strings are
   * refused.
   */
  private static Object storedDecimal(ColumnInfo info, Object value) {
    int[] ps = precisionScale(info);
    if (ps == null) {
      return null;
    }
    BigDecimal d;
    if (value instanceof String s) {
      d = decimalText(s);
      if (d == null) {
        return null;
      }
    } else if (value instanceof Double || value instanceof Float) {
      double x = ((Number) value).doubleValue();
      if (!Double.isFinite(x)) {
        return null;
      }
      d = BigDecimal.valueOf(x);
      if (d.stripTrailingZeros().scale() > ps[1]) {
        return null;
      }
    } else if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte) {
      d = BigDecimal.valueOf(((Number) value).longValue());
    } else if (value instanceof Boolean b) {
      d = b ? BigDecimal.ONE : BigDecimal.ZERO;
    } else {
      d = decimal(value);
      if (d == null) {
        return null;
      }
    }
    return d.setScale(ps[1], java.math.RoundingMode.HALF_UP);
  }

  /**
   * The double an INSERT stores in a FLOAT or DOUBLE column (a FLOAT's single-precision value as a
   * double, which is how the server compares it): {@code '1e10'} and {@code 10000000000} are the
   * same key, {@code 0.1000000000000000055} is 0.1. Strings that are not plain numbers are refused.
   */
  private static Object storedFloating(ColumnInfo info, Object value) {
    double x;
    if (value instanceof String s) {
      BigDecimal d = decimalText(s);
      if (d == null) {
        return null;
      }
      x = d.doubleValue();
    } else if (value instanceof Boolean b) {
      x = b ? 1 : 0;
    } else if (value instanceof Numeric n) {
      x = n.bigDecimalValue().doubleValue();
    } else if (value instanceof Number n) {
      x = asDouble(n);
    } else {
      return null;
    }
    if (!Double.isFinite(x)) {
      return null;
    }
    return info.dataType().equals("float") ? (double) (float) x : x;
  }

  /**
   * The date or datetime an INSERT stores: a DATE drops the time ({@code '2024-01-15 10:00:00'} is
   * stored as 2024-01-15). Under a hashed algorithm, whose key is the exact value, fractional
   * seconds beyond the column's precision are dropped when the server's truncation and rounding
   * agree (MariaDB truncates, MySQL and TIME_ROUND_FRACTIONAL round) and refused otherwise; other
   * algorithms place by the period, as before.
   */
  private static Object storedTemporal(ColumnInfo info, Object value, ShardingAlgorithm algorithm) {
    Object t = temporal(info, value);
    if (t instanceof LocalDateTime dt && info.kind() == ColumnInfo.Kind.DATE) {
      return dt.toLocalDate();
    }
    if (t instanceof LocalDateTime dt && algorithm instanceof CollationKeyed) {
      int unit = fractionUnit(info);
      int dropped = dt.getNano() % unit;
      if (dropped == 0) {
        return dt;
      }
      return dropped * 2 < unit ? dt.withNano(dt.getNano() - dropped) : null;
    }
    return t;
  }

  /**
   * The TIME an INSERT stores, for a hashed algorithm: a Duration with fractional seconds beyond
   * the column's precision dropped when truncation (MariaDB) and rounding (MySQL) agree; refused
   * when they do not, or for a form {@link #time} does not read.
   */
  private static Object storedTime(ColumnInfo info, Object value, ShardingAlgorithm algorithm) {
    if (!(algorithm instanceof CollationKeyed)) {
      return value; // placed by the algorithm's own reading, as before
    }
    java.time.Duration d = time(value);
    if (d == null) {
      return null;
    }
    long unit = fractionUnit(info);
    java.time.Duration a = d.abs();
    long dropped = a.getNano() % unit;
    if (dropped == 0) {
      return d;
    }
    if (dropped * 2 >= unit) {
      return null;
    }
    java.time.Duration cut = a.minusNanos(dropped);
    return d.isNegative() ? cut.negated() : cut;
  }

  private static final Pattern FRACTION_DIGITS = Pattern.compile("\\((\\d)\\)");

  private static String whyNotStored(ColumnInfo info) {
    return switch (info.kind()) {
      case BIT ->
          ": a BIT key is placed by its number, and a string stores its bytes ('7' stores 55);"
              + " write the key as a number";
      case JSON, OTHER ->
          info.isUuid()
              ? ": not a UUID the router can read (32 hex digits, hyphens only between them);"
                  + " write it as 8-4-4-4-12 hex digits or pass a java.util.UUID"
              : ": the server stores "
                  + info.dataType()
                  + " values in a normalized form the router does not compute, so a hashed key"
                  + " of this type cannot place the row exactly; shard on another column";
      default ->
          ": the server would convert the value with its own rounding or truncation; send the"
              + " value in the column's type";
    };
  }

  /** The start of an INSERT refusal: {@code cannot choose the data node of t.c (type) = 'v'}. */
  private static String noNode(String table, String column, String columnType, Object value) {
    return "cannot choose the data node of "
        + table
        + "."
        + column
        + (columnType == null ? "" : " (" + columnType + ")")
        + " = "
        + quoted(value);
  }

  /** A string the server reads as a date with separators ('2024-01-20'), not as a number. */
  private static boolean dateLike(String s) {
    return MysqlValues.dateTime(s) != null && !s.strip().chars().allMatch(Character::isDigit);
  }

  private static String quoted(Object value) {
    return value instanceof String ? "'" + value + "'" : String.valueOf(value);
  }

  /** The collation sort key of a text value, or null when it cannot be computed exactly. */
  private byte[] sortKey(ColumnInfo info, String text) {
    CollationWeights weights = catalog.weights(info.collation());
    return weights == null ? null : weights.sortKey(text, info.dataType().equals("char"));
  }

  private String whyNoKey(ColumnInfo info, String text) {
    if (!CollationWeights.supported(info.collation())) {
      return "the router cannot tell which values this collation holds equal to it, so it cannot"
          + " place the row where a collation-equal key would be looked for (hashed string keys"
          + " are supported under the collations listed in the router's README); use one of them"
          + " for the column, or a numeric key";
    }
    if (catalog.weights(info.collation()) == null) {
      return "the collation's weights could not be read from the shard yet; retry when it answers";
    }
    return "the value has a character whose weight depends on its neighbours in this collation"
        + " (a combining mark, a Thai or Lao pre-vowel, a middle dot, a modifier letter, an"
        + " unassigned code point) or that the column's character set cannot hold, so its node"
        + " cannot be told exactly; write it precomposed (NFC) or without such characters";
  }

  /**
   * The exact bytes of a BINARY/VARBINARY value (a string as its UTF-8 bytes, as the client sends
   * it), padded with zero bytes to the length of a BINARY(n) column as the server stores it.
   */
  private static Object binaryKey(ColumnInfo info, Object value, Object otherwise) {
    byte[] bytes;
    if (value instanceof String s) {
      bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    } else if (value instanceof io.vertx.core.buffer.Buffer b) {
      bytes = b.getBytes();
    } else {
      return otherwise;
    }
    if (info.dataType().equals("binary")) {
      java.util.regex.Matcher m = BINARY_LENGTH.matcher(info.columnType());
      if (!m.matches()) {
        return otherwise;
      }
      int n = Integer.parseInt(m.group(1));
      if (bytes.length > n) {
        return otherwise;
      }
      bytes = java.util.Arrays.copyOf(bytes, n);
    }
    return new CollationKey(bytes, value instanceof String s ? s : value.toString());
  }

  private static final Pattern BINARY_LENGTH = Pattern.compile("binary\\((\\d+)\\)");

  private static Object integerForComparison(Object value) {
    if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte) {
      return value;
    }
    if (value instanceof Boolean b) {
      return b ? 1L : 0L;
    }
    BigDecimal d;
    if (value instanceof String s) {
      // compared as doubles: the longest numeric prefix, 0 when there is none
      double x = MysqlValues.doubleOf(s);
      if (Double.isInfinite(x) || x != Math.rint(x) || Math.abs(x) >= 0x1p53) {
        return ANY;
      }
      return (long) x;
    }
    d = decimal(value);
    if (d == null) {
      return ANY;
    }
    if ((value instanceof Double || value instanceof Float)
        && d.abs().compareTo(DOUBLE_EXACT) >= 0) {
      return ANY;
    }
    return integral(d);
  }

  private static Object integerForInsert(Object value) {
    if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte) {
      return value;
    }
    if (value instanceof Boolean b) {
      return b ? 1L : 0L;
    }
    if (value instanceof String s) {
      if (!STRICT_INTEGER.matcher(s).matches()) {
        return null;
      }
      BigInteger i = new BigInteger(s.strip().startsWith("+") ? s.strip().substring(1) : s.strip());
      return i.bitLength() <= 63 ? (Object) i.longValue() : new BigDecimal(i);
    }
    BigDecimal d = decimal(value);
    if (d == null || value instanceof Double || value instanceof Float) {
      return d == null ? null : integralOrNull(d);
    }
    return integralOrNull(d);
  }

  private static Object integralOrNull(BigDecimal d) {
    Object i = integral(d);
    return i == ANY ? null : i;
  }

  /** An integral decimal as a Long (or BigDecimal beyond 63 bits); {@link #ANY} if fractional. */
  private static Object integral(BigDecimal d) {
    BigDecimal s = d.stripTrailingZeros();
    if (s.scale() > 0) {
      return ANY;
    }
    BigInteger i = s.toBigIntegerExact();
    return i.bitLength() <= 63 ? (Object) i.longValue() : new BigDecimal(i);
  }

  private static BigDecimal decimal(Object value) {
    if (value instanceof BigDecimal d) {
      return d;
    }
    if (value instanceof Numeric n) {
      return n.bigDecimalValue();
    }
    if (value instanceof BigInteger i) {
      return new BigDecimal(i);
    }
    if (value instanceof Double || value instanceof Float) {
      double x = ((Number) value).doubleValue();
      return Double.isFinite(x) ? new BigDecimal(x) : null;
    }
    return null;
  }

  /**
   * A date or datetime in any form the server reads: {@code '2026-03-01'}, {@code '2026/3/1
   * 10.15.00'}, {@code '20260301'}, {@code '260301'}, {@code 20260301000000}, Java temporals. Null
   * when it is not a valid date.
   */
  static Object temporal(ColumnInfo info, Object value) {
    LocalDateTime t = MysqlValues.dateTime(value);
    if (t == null) {
      return null;
    }
    if (info.kind() == ColumnInfo.Kind.DATE
        && t.toLocalTime().equals(java.time.LocalTime.MIDNIGHT)) {
      return t.toLocalDate();
    }
    return t;
  }
}
