package io.shardkit.router.impl.analyse;

import io.shardkit.router.UnsupportedSqlException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.List;

/**
 * MariaDB's arithmetic on merged values, measured on the server: an integer with an integer stays
 * an integer (+ - * DIV %); a DECIMAL operand makes the result DECIMAL, exact, with the scale the
 * client sees ({@code max} for + - %, the sum for *, the dividend's + {@code
 * div_precision_increment} (4) for /); a DOUBLE or string operand makes it a double. Division keeps
 * more digits than it shows: the quotient is truncated to {@code frac1 + frac2 + 4} digits rounded
 * up to a multiple of 9 (the server's decimal words), so {@code (2/3)*3} is {@code 2.0000}.
 * Division or modulo by zero is NULL.
 */
final class SqlNumber {

  private static final int INCREMENT = 4;
  private static final int MAX_SCALE = 38;

  private SqlNumber() {}

  /** A DECIMAL: the value at its internal precision and the scale the client sees. */
  record Dec(BigDecimal value, int scale) {
    Dec(BigDecimal value) {
      this(value, Math.max(0, value.scale()));
    }

    /** The value as the server sends it: rounded half away from zero to {@link #scale}. */
    BigDecimal shown() {
      return value.setScale(scale, RoundingMode.HALF_UP);
    }
  }

  /** A merged column's value in this algebra: Long, Dec, Double, String or a date-time as is. */
  static Object read(Object v) {
    if (v == null || v instanceof String || v instanceof Double) {
      return v;
    }
    if (v instanceof Float f) {
      return f.doubleValue();
    }
    if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof io.vertx.sqlclient.data.Numeric
        || v instanceof BigDecimal
        || v instanceof BigInteger) {
      BigDecimal d = Values.toBigDecimal(v);
      return d.scale() < 0 ? new Dec(d.setScale(0)) : new Dec(d);
    }
    if (v instanceof Boolean b) {
      return b ? 1L : 0L;
    }
    throw notNumeric(v);
  }

  static UnsupportedSqlException notNumeric(Object v) {
    return new UnsupportedSqlException(
        List.of(),
        "the merged value "
            + (v instanceof String ? "'" + v + "'" : String.valueOf(v))
            + " is not a number the router computes with across data nodes");
  }

  /** A number as a double (strings by the server's numeric reading). */
  static double real(Object v) {
    if (v instanceof Dec d) {
      return d.value().doubleValue();
    }
    if (v instanceof String s) {
      return io.shardkit.router.impl.schema.MysqlValues.doubleOf(s);
    }
    return ((Number) v).doubleValue();
  }

  static Dec dec(Object v) {
    return v instanceof Dec d ? d : new Dec(BigDecimal.valueOf((Long) v));
  }

  static boolean isReal(Object v) {
    return v instanceof Double || v instanceof String;
  }

  /** {@code l op r} for non-NULL operands. */
  static Object arithmetic(String op, Object l, Object r) {
    if (op.equals("DIV")) {
      return integerDivision(l, r);
    }
    if (isReal(l) || isReal(r)) {
      double a = real(l);
      double b = real(r);
      return switch (op) {
        case "+" -> a + b;
        case "-" -> a - b;
        case "*" -> a * b;
        case "/" -> b == 0 ? null : a / b;
        default -> b == 0 ? null : a % b;
      };
    }
    if (l instanceof Long a && r instanceof Long b && !op.equals("/")) {
      try {
        return switch (op) {
          case "+" -> Math.addExact(a, b);
          case "-" -> Math.subtractExact(a, b);
          case "*" -> Math.multiplyExact(a, b);
          default -> b == 0 ? null : a % b;
        };
      } catch (ArithmeticException e) {
        throw new UnsupportedSqlException(
            List.of(), "BIGINT value is out of range in " + a + " " + op + " " + b);
      }
    }
    Dec a = dec(l);
    Dec b = dec(r);
    return switch (op) {
      case "+" -> new Dec(a.value().add(b.value()), Math.max(a.scale(), b.scale()));
      case "-" -> new Dec(a.value().subtract(b.value()), Math.max(a.scale(), b.scale()));
      case "*" ->
          new Dec(a.value().multiply(b.value()), Math.min(MAX_SCALE, a.scale() + b.scale()));
      case "/" -> divide(a, b);
      default ->
          b.value().signum() == 0
              ? null
              : new Dec(a.value().remainder(b.value()), Math.max(a.scale(), b.scale()));
    };
  }

  private static Object divide(Dec a, Dec b) {
    if (b.value().signum() == 0) {
      return null;
    }
    int fraction = a.value().scale() + Math.max(0, b.value().scale()) + INCREMENT;
    int internal = Math.min((fraction + 8) / 9 * 9, 81);
    BigDecimal q = a.value().divide(b.value(), internal, RoundingMode.DOWN);
    return new Dec(q, Math.min(MAX_SCALE, a.scale() + INCREMENT));
  }

  private static Object integerDivision(Object l, Object r) {
    BigDecimal q;
    if (isReal(l) || isReal(r)) {
      double b = real(r);
      if (b == 0) {
        return null;
      }
      double v = real(l) / b;
      q = BigDecimal.valueOf(v < 0 ? Math.ceil(v) : Math.floor(v));
    } else {
      Dec a = dec(l);
      Dec b = dec(r);
      if (b.value().signum() == 0) {
        return null;
      }
      q = a.value().divide(b.value(), 0, RoundingMode.DOWN);
    }
    try {
      return q.longValueExact();
    } catch (ArithmeticException e) {
      throw new UnsupportedSqlException(List.of(), "BIGINT value is out of range in DIV");
    }
  }
}
