package io.shardkit.router.impl.analyse;

import static io.shardkit.router.impl.analyse.ComparisonTypes.DEC;
import static io.shardkit.router.impl.analyse.ComparisonTypes.INT;
import static io.shardkit.router.impl.analyse.ComparisonTypes.REAL;
import static io.shardkit.router.impl.analyse.ComparisonTypes.STR;
import static io.shardkit.router.impl.analyse.ComparisonTypes.aggregate;

import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.util.List;

/**
 * A HAVING condition compiled for evaluation on merged group rows, with SQL's three-valued logic (a
 * comparison with NULL is unknown; only TRUE keeps the group). Supported: AND, OR, NOT,
 * comparisons, IS [NOT] NULL, [NOT] BETWEEN, [NOT] IN (values), + - * /, literals, parameters and
 * references to result or derived columns (aggregates, group keys).
 */
public sealed interface Having {

  /** The value for one merged row (all columns, derived included) of the given visible width. */
  Object eval(Object[] row, int visible, Tuple params);

  /** Whether the row passes: the condition is TRUE. */
  default boolean test(Object[] row, int visible, Tuple params) {
    return Boolean.TRUE.equals(eval(row, visible, params));
  }

  /**
   * The sort key of the value this node gives for the row (strings compared with a column), or
   * null.
   */
  default Object weight(Object[] row, int visible) {
    return null;
  }

  /** The space weight of the collation the value compares in when it pads, or null. */
  default Object pad(Object[] row, int visible) {
    return null;
  }

  /** The members of the ENUM or SET this node's value is (compared with a number by position). */
  default Ordinals ordinals() {
    return null;
  }

  /** A column of the merged row, with its sort key columns when it may be a string. */
  record Ref(MergeSpec.ColumnRef column, MergeSpec.Key key) implements Having {

    Ref(MergeSpec.ColumnRef column) {
      this(column, null);
    }

    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object v = row[column.resolve(visible)];
      if (key != null && v != null) {
        if (key.unsigned()) {
          v = MergeSpec.unsignedBits(v); // BIT: the server compares it unsigned
        } else if (key.weight() != null
            && !(v instanceof String)
            && row[key.weight().resolve(visible)] instanceof Double exact) {
          v = exact; // FLOAT: its exact value, not the text protocol's 6 digits
        }
      }
      return v instanceof io.vertx.sqlclient.data.Numeric n ? n.bigDecimalValue() : v;
    }

    @Override
    public Object weight(Object[] row, int visible) {
      return key == null || key.weight() == null ? null : row[key.weight().resolve(visible)];
    }

    @Override
    public Object pad(Object[] row, int visible) {
      return key == null || key.pad() == null ? null : row[key.pad().resolve(visible)];
    }

    @Override
    public Ordinals ordinals() {
      return key == null ? null : key.ordinals();
    }
  }

  /**
   * A literal; {@code weight} is the derived column holding its sort key in the collation of the
   * column it is compared with, or null.
   */
  record Literal(Object value, MergeSpec.ColumnRef weight) implements Having {

    Literal(Object value) {
      this(value, null);
    }

    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      return value;
    }

    @Override
    public Object weight(Object[] row, int visible) {
      return weight == null ? null : row[weight.resolve(visible)];
    }
  }

  /** A {@code ?} parameter (0-based), with the derived column of its sort key, or null. */
  record Param(int index, MergeSpec.ColumnRef weight) implements Having {

    Param(int index) {
      this(index, null);
    }

    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object v = params.getValue(index);
      // the MySQL client sends a BigDecimal (or Numeric) parameter as its text, and the server
      // compares it as a string: 'Zurich' < ? is false for 1.5 as a BigDecimal, true as a Double
      // (measured through Vert.x on MariaDB 11.4)
      // a BigInteger too: the client infers no number type for it and sends its decimal text
      return v instanceof BigDecimal
              || v instanceof io.vertx.sqlclient.data.Numeric
              || v instanceof java.math.BigInteger
          ? v.toString()
          : v;
    }

    @Override
    public Object weight(Object[] row, int visible) {
      return weight == null ? null : row[weight.resolve(visible)];
    }
  }

  /**
   * Compares two HAVING operands by the server's rules: an integer with a string exactly (as
   * DECIMAL), a DECIMAL or DOUBLE with a string as doubles (refused when the router cannot tell
   * which a value is and the two differ), a date, datetime or time with a string as that temporal
   * type, two strings by their sort keys in the collation of the column side, other values by
   * value.
   */
  static int compare(Having left, Object l, Having right, Object r, Object[] row, int visible) {
    // an ENUM or SET value compared with a number compares by its position (bits for a SET)
    if (l instanceof String && left.ordinals() != null && Values.isNumber(r)
        || r instanceof String && right.ordinals() != null && Values.isNumber(l)) {
      return Values.compare(numeric(left, l), numeric(right, r));
    }
    if (temporal(l) && Values.isNumber(r) || temporal(r) && Values.isNumber(l)) {
      // the server reads the number as a date-time, or the date-time as a number, depending on
      // the operands' kinds; not reproduced, so refused rather than guessed
      throw new io.shardkit.router.UnsupportedSqlException(
          List.of(),
          "HAVING compares the date/time value "
              + (temporal(l) ? l : r)
              + " with the number "
              + (temporal(l) ? r : l)
              + " across data nodes; compare it with a date literal");
    }
    if (l instanceof io.vertx.core.buffer.Buffer && r instanceof String
        || l instanceof String && r instanceof io.vertx.core.buffer.Buffer) {
      // a binary string compares with a string byte for byte (the string in the connection's
      // character set, utf8mb4), never by a collation: 'a' <> 'A'
      return compareBytes(bytes(l), bytes(r));
    }
    if (l instanceof String s && r instanceof String t) {
      Object pad = left.pad(row, visible);
      return Collated.compare(
          s,
          left.weight(row, visible),
          t,
          right.weight(row, visible),
          pad != null ? pad : right.pad(row, visible));
    }
    if (l instanceof io.vertx.core.buffer.Buffer b && Values.isNumber(r)) {
      // a binary string with a number: the server reads the bytes' numeric prefix as a double
      return -compareWithString(r, b.toString(java.nio.charset.StandardCharsets.ISO_8859_1));
    }
    if (r instanceof io.vertx.core.buffer.Buffer b && Values.isNumber(l)) {
      return compareWithString(l, b.toString(java.nio.charset.StandardCharsets.ISO_8859_1));
    }
    if (l instanceof String s && !(r instanceof String)) {
      return -compareWithString(r, s);
    }
    if (r instanceof String t) {
      return compareWithString(l, t);
    }
    if (temporal(l) && temporal(r) && l.getClass() != r.getClass()) {
      return compareTemporals(l, r);
    }
    if (Values.isNumber(l) && Values.isNumber(r) && (real(l) != real(r))) {
      // a DOUBLE (or FLOAT) with a DECIMAL or an integer compares as doubles: k = 0.1 holds for
      // the literal 0.1000000000000000055, which reads as the same double
      return Double.compare(asReal(l), asReal(r));
    }
    return Values.compare(l, r);
  }

  private static boolean real(Object v) {
    return v instanceof Double || v instanceof Float;
  }

  private static double asReal(Object v) {
    return real(v) ? ((Number) v).doubleValue() : Values.toBigDecimal(v).doubleValue();
  }

  /**
   * Two temporal values of different Java types, as the server compares them: a DATE with a
   * DATETIME as datetimes (the date at midnight: {@code DATE '1999-12-31' >= TIMESTAMP '1999-12-31
   * 00:00:00'}), a TIME with a LocalTime parameter (sent as TIME) as durations. A TIME with a date
   * compares through the current date on the server: refused.
   */
  private static int compareTemporals(Object l, Object r) {
    if (l instanceof java.time.Duration
        || r instanceof java.time.Duration
        || l instanceof java.time.LocalTime
        || r instanceof java.time.LocalTime) {
      java.time.Duration a = duration(l);
      java.time.Duration b = duration(r);
      if (a != null && b != null) {
        return a.compareTo(b);
      }
    } else {
      java.time.LocalDateTime a = io.shardkit.router.impl.schema.MysqlValues.dateTime(l);
      java.time.LocalDateTime b = io.shardkit.router.impl.schema.MysqlValues.dateTime(r);
      if (a != null && b != null) {
        return a.compareTo(b);
      }
    }
    throw new io.shardkit.router.UnsupportedSqlException(
        List.of(),
        "HAVING compares the time "
            + l
            + " with "
            + r
            + " across data nodes; the server reads"
            + " one through the current date, which the router does not reproduce");
  }

  private static java.time.Duration duration(Object v) {
    if (v instanceof java.time.Duration d) {
      return d;
    }
    return v instanceof java.time.LocalTime t ? java.time.Duration.ofNanos(t.toNanoOfDay()) : null;
  }

  private static boolean temporal(Object v) {
    return v instanceof java.time.temporal.Temporal || v instanceof java.time.Duration;
  }

  private static int compareWithString(Object value, String text) {
    if (Values.isNumber(value)) {
      int kinds = kinds(value);
      Integer exact = null;
      Integer real = null;
      if ((kinds & INT) != 0) {
        // an integer next to a string compares as DECIMAL: exactly
        exact =
            Values.toBigDecimal(value)
                .compareTo(io.shardkit.router.impl.schema.MysqlValues.decimalOf(text));
      }
      if ((kinds & (DEC | REAL)) != 0) {
        // a DECIMAL or a DOUBLE next to a string compares as doubles
        real =
            Double.compare(
                Values.toBigDecimal(value).doubleValue(),
                io.shardkit.router.impl.schema.MysqlValues.doubleOf(text));
      }
      if (exact != null && real != null && Integer.signum(exact) != Integer.signum(real)) {
        throw typeUnknown(value, text);
      }
      return exact != null ? exact : real;
    }
    if (value instanceof java.time.Duration d) {
      java.time.Duration t = io.shardkit.router.impl.schema.MysqlValues.time(text);
      if (t == null) {
        throw notComparable(value, text);
      }
      return d.compareTo(t);
    }
    if (value instanceof java.time.temporal.Temporal) {
      java.time.LocalDateTime v = io.shardkit.router.impl.schema.MysqlValues.dateTime(value);
      java.time.LocalDateTime t = io.shardkit.router.impl.schema.MysqlValues.dateTime(text);
      if (v == null || t == null) {
        throw notComparable(value, text);
      }
      return v.compareTo(t);
    }
    return Values.compare(value, text);
  }

  /**
   * The {@link ComparisonTypes} a value may have on the server, as a set: a Long or BigInteger is
   * an integer, a Double a DOUBLE, a string a string; a BigDecimal (a DECIMAL, an unsigned BIGINT
   * read as a Numeric, a literal beyond 63 bits) may be an integer when it has no fraction digits.
   */
  private static int kinds(Object v) {
    if (v instanceof String || v instanceof io.vertx.core.buffer.Buffer) {
      return STR;
    }
    if (v instanceof Double || v instanceof Float) {
      return REAL;
    }
    if (v instanceof BigDecimal || v instanceof io.vertx.sqlclient.data.Numeric) {
      return Values.toBigDecimal(v).scale() > 0 ? DEC | REAL : INT | DEC | REAL;
    }
    return INT;
  }

  private static io.shardkit.router.UnsupportedSqlException typeUnknown(Object v, String text) {
    return new io.shardkit.router.UnsupportedSqlException(
        List.of(),
        "HAVING compares "
            + (v instanceof BigDecimal d ? d.toPlainString() : String.valueOf(v))
            + " with '"
            + text
            + "' across data nodes: the server compares an integer with a string exactly but a"
            + " DECIMAL with a string as doubles, which differ here, and the router cannot tell"
            + " which the value is; compare with a number of the column's type");
  }

  private static io.shardkit.router.UnsupportedSqlException notComparable(Object v, String text) {
    return new io.shardkit.router.UnsupportedSqlException(
        List.of(),
        "HAVING compares " + v + " with '" + text + "', which the router cannot read as that type");
  }

  /** AND / OR with NULL as unknown. */
  record Logic(boolean and, Having left, Having right) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object l = left.eval(row, visible, params);
      Object r = right.eval(row, visible, params);
      Boolean a = truth(l);
      Boolean b = truth(r);
      if (and) {
        if (Boolean.FALSE.equals(a) || Boolean.FALSE.equals(b)) {
          return false;
        }
        return a == null || b == null ? null : true;
      }
      if (Boolean.TRUE.equals(a) || Boolean.TRUE.equals(b)) {
        return true;
      }
      return a == null || b == null ? null : false;
    }
  }

  /** NOT. */
  record Not(Having inner) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Boolean b = truth(inner.eval(row, visible, params));
      return b == null ? null : !b;
    }
  }

  /** A comparison: = <> < <= > >=. */
  record Compare(String op, Having left, Having right) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object l = left.eval(row, visible, params);
      Object r = right.eval(row, visible, params);
      if (op.equals("<=>") && (l == null || r == null)) {
        return l == null && r == null; // null-safe equality: never unknown
      }
      if (l == null || r == null) {
        return null;
      }
      int c = compare(left, l, right, r, row, visible);
      return switch (op) {
        case "=", "<=>" -> c == 0;
        case "<>", "!=" -> c != 0;
        case "<" -> c < 0;
        case "<=" -> c <= 0;
        case ">" -> c > 0;
        case ">=" -> c >= 0;
        default -> throw new IllegalStateException("comparison " + op + " was not compiled");
      };
    }
  }

  /**
   * {@code x BETWEEN a AND b}. The server compares the three operands in one type aggregated over
   * all of them left to right, not pair by pair: when strings meet a number among them, all three
   * compare as DECIMAL or as doubles ({@code '"x"' BETWEEN '{"a": 1}' AND 1} is true: 0 between 0
   * and 1), although {@code x >= a} alone would compare two strings; see {@link ComparisonTypes}.
   * Otherwise it is {@code x >= a AND x <= b}.
   */
  record Between(Having left, Having start, Having end, Having pairwise) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object x = left.eval(row, visible, params);
      Object a = start.eval(row, visible, params);
      Object b = end.eval(row, visible, params);
      if (x == null || a == null || b == null || !stringsMeetANumber(x, a, b)) {
        return pairwise.eval(row, visible, params);
      }
      if (left.ordinals() != null
          || start.ordinals() != null
          || end.ordinals() != null
          || temporal(x)
          || temporal(a)
          || temporal(b)) {
        double v = asDouble(left, x);
        return v >= asDouble(start, a) && v <= asDouble(end, b);
      }
      // every type each operand may have, aggregated left to right as the server does
      Boolean result = null;
      for (int kx : split(kinds(x))) {
        for (int ka : split(kinds(a))) {
          for (int kb : split(kinds(b))) {
            boolean r;
            if (aggregate(aggregate(kx, ka), kb) == REAL) {
              double v = asDouble(left, x);
              r = v >= asDouble(start, a) && v <= asDouble(end, b);
            } else {
              BigDecimal v = asDecimal(x);
              r = v.compareTo(asDecimal(a)) >= 0 && v.compareTo(asDecimal(b)) <= 0;
            }
            if (result != null && result != r) {
              throw refused(x, a, b);
            }
            result = r;
          }
        }
      }
      if (left instanceof Ref && (kinds(x) & INT) != 0 && fieldInteger(a) && fieldInteger(b)) {
        // a BIGINT column (or YEAR) with bounds it holds exactly: the server converts them to
        // integers and compares exactly (measured on 11.4: HAVING c1 BETWEEN '1' AND
        // '9007199254740992' drops the BIGINT group 9007199254740993, HAVING MAX(c1) ... keeps it)
        BigDecimal v = asDecimal(x);
        boolean exact = v.compareTo(asDecimal(a)) >= 0 && v.compareTo(asDecimal(b)) <= 0;
        if (exact != result) {
          throw refused(x, a, b);
        }
      }
      return result;
    }

    /** Whether the server may convert a bound to the integer column it is compared with. */
    private static boolean fieldInteger(Object v) {
      if (v instanceof Double || v instanceof Float) {
        double d = ((Number) v).doubleValue();
        return Double.isFinite(d) && d == Math.rint(d);
      }
      if (!(v instanceof String)
          && !(v instanceof io.vertx.core.buffer.Buffer)
          && !Values.isNumber(v)) {
        return false;
      }
      BigDecimal d = asDecimal(v);
      return d.stripTrailingZeros().scale() <= 0
          && d.compareTo(BIGINT_MIN) >= 0
          && d.compareTo(UNSIGNED_MAX) <= 0;
    }

    private static final BigDecimal BIGINT_MIN = BigDecimal.valueOf(Long.MIN_VALUE);
    private static final BigDecimal UNSIGNED_MAX =
        new BigDecimal(java.math.BigInteger.ONE.shiftLeft(64).subtract(java.math.BigInteger.ONE));

    private static io.shardkit.router.UnsupportedSqlException refused(
        Object x, Object a, Object b) {
      return new io.shardkit.router.UnsupportedSqlException(
          List.of(),
          "HAVING compares "
              + shown(x)
              + " BETWEEN "
              + shown(a)
              + " AND "
              + shown(b)
              + " across data nodes: the server compares these as DECIMAL, as integers or as"
              + " doubles depending on the operands' types (an integer with a string exactly, a"
              + " DECIMAL with a string as doubles, a BIGINT column with bounds it holds as"
              + " integers), which differ here, and the router cannot tell the types; write bounds"
              + " of the column's type");
    }

    private static int[] split(int kinds) {
      return java.util.stream.IntStream.of(INT, DEC, REAL, STR)
          .filter(k -> (kinds & k) != 0)
          .toArray();
    }

    private static String shown(Object v) {
      return v instanceof String s
          ? "'" + s + "'"
          : v instanceof BigDecimal d ? d.toPlainString() : String.valueOf(v);
    }

    private static BigDecimal asDecimal(Object v) {
      if (v instanceof String s) {
        return io.shardkit.router.impl.schema.MysqlValues.decimalOf(s);
      }
      if (v instanceof io.vertx.core.buffer.Buffer buf) {
        return io.shardkit.router.impl.schema.MysqlValues.decimalOf(
            buf.toString(java.nio.charset.StandardCharsets.ISO_8859_1));
      }
      return Values.toBigDecimal(v);
    }

    private static boolean stringsMeetANumber(Object... values) {
      boolean text = false;
      boolean number = false;
      for (Object v : values) {
        text |= v instanceof String || v instanceof io.vertx.core.buffer.Buffer;
        number |= Values.isNumber(v);
      }
      return text && number;
    }

    private static double asDouble(Having node, Object v) {
      if (v instanceof String s && node.ordinals() == null) {
        return io.shardkit.router.impl.schema.MysqlValues.doubleOf(s);
      }
      if (v instanceof io.vertx.core.buffer.Buffer buf) {
        return io.shardkit.router.impl.schema.MysqlValues.doubleOf(
            buf.toString(java.nio.charset.StandardCharsets.ISO_8859_1));
      }
      if (temporal(v)) {
        // a date/time among strings and numbers: not reproduced, refused as in compare()
        throw new io.shardkit.router.UnsupportedSqlException(
            List.of(),
            "HAVING compares the date/time value "
                + v
                + " in a BETWEEN that mixes strings and numbers across data nodes");
      }
      return numeric(node, v).doubleValue();
    }
  }

  /** IS [NOT] NULL. */
  record IsNull(Having inner, boolean not) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      return (inner.eval(row, visible, params) == null) != not;
    }
  }

  /** [NOT] IN (values). */
  record In(Having left, List<Having> values, boolean not) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object l = left.eval(row, visible, params);
      if (l == null) {
        return null;
      }
      boolean unknown = false;
      for (Having h : values) {
        Object v = h.eval(row, visible, params);
        if (v == null) {
          unknown = true;
        } else if (compare(left, l, h, v, row, visible) == 0) {
          return !not;
        }
      }
      return unknown ? null : not;
    }
  }

  /**
   * {@code left op right} in the server's arithmetic ({@link SqlNumber}): integers stay integers, a
   * DECIMAL quotient keeps its internal digits for the next operation and compares at the scale the
   * client sees ({@code SUM(v)/3 = 1.3333} holds for a sum of 4, {@code SUM(v)/3 > 1.3333} does
   * not; {@code SUM(v)/3*3 = 4}), measured on MariaDB 11.4.
   */
  record Arithmetic(char op, Having left, Having right) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object v = raw(row, visible, params);
      return v instanceof SqlNumber.Dec d ? d.shown() : v;
    }

    private Object raw(Object[] row, int visible, Tuple params) {
      Object l = operand(left, row, visible, params);
      Object r = operand(right, row, visible, params);
      return l == null || r == null ? null : SqlNumber.arithmetic(String.valueOf(op), l, r);
    }

    private static Object operand(Having node, Object[] row, int visible, Tuple params) {
      if (node instanceof Arithmetic a) {
        return a.raw(row, visible, params);
      }
      Object v = node.eval(row, visible, params);
      if (v == null) {
        return null;
      }
      if (v instanceof String s && node.ordinals() != null) {
        return (long) node.ordinals().ordinal(s);
      }
      if (v instanceof String && !(node instanceof Ref)) {
        return v; // a string literal or parameter: the server computes with it as a double
      }
      if (!Values.isNumber(v)) {
        // the server reads a string as a double (its numeric prefix; a JSON string with its
        // quotes) and a date/time as digits (20240115100000.5) before computing: not
        // reproduced, so refused rather than guessed
        throw new io.shardkit.router.UnsupportedSqlException(
            List.of(),
            "HAVING computes with the value "
                + v
                + ", which is not a number, across data nodes; compute with numeric columns or"
                + " CAST the value in the select list");
      }
      return SqlNumber.read(v);
    }
  }

  private static byte[] bytes(Object v) {
    return v instanceof io.vertx.core.buffer.Buffer b
        ? b.getBytes()
        : ((String) v).getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static int compareBytes(byte[] x, byte[] y) {
    return Integer.signum(java.util.Arrays.compareUnsigned(x, y));
  }

  private static BigDecimal numeric(Having node, Object v) {
    if (v instanceof String s && node.ordinals() != null) {
      return BigDecimal.valueOf(node.ordinals().ordinal(s));
    }
    return Values.toBigDecimal(v);
  }

  private static Boolean truth(Object v) {
    if (v == null) {
      return null;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (Values.isNumber(v)) {
      return Values.toBigDecimal(v).signum() != 0;
    }
    return false;
  }
}
