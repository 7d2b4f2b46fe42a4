package io.shardkit.router.impl.analyse;

import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.analyse.SqlNumber.Dec;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;

/**
 * The functions of {@link Scalar#FUNCTIONS} with MariaDB's semantics, measured on the server: ROUND
 * of an exact value rounds half away from zero and keeps an integer an integer (a DECIMAL takes the
 * requested scale), of a double rounds half to even ({@code rint}); TRUNCATE cuts toward zero;
 * CEIL/FLOOR of a DECIMAL is an integer; COALESCE/IFNULL take the first non-NULL value in the
 * widest type of the others; CONCAT writes numbers as the server does (DECIMAL at its scale, a
 * double by its shortest digits) and is NULL when an argument is.
 */
final class SqlFunctions {

  private SqlFunctions() {}

  static Object call(String name, Object[] a) {
    return switch (name) {
      case "COALESCE", "IFNULL" -> coalesce(a);
      case "CONCAT" -> concat(a);
      case "MOD" -> a[0] == null || a[1] == null ? null : SqlNumber.arithmetic("%", a[0], a[1]);
      default -> {
        for (Object v : a) {
          if (v == null) {
            yield null;
          }
        }
        yield numeric(name, a);
      }
    };
  }

  private static Object numeric(String name, Object[] a) {
    Object x = a[0] instanceof String s ? SqlNumber.real(s) : a[0];
    int places = a.length > 1 ? (int) Math.max(-64, Math.min(64, (Long) a[1])) : 0;
    return switch (name) {
      case "ROUND" -> round(x, places, false);
      case "TRUNCATE" -> round(x, places, true);
      case "ABS" ->
          x instanceof Long l
              ? (Object) Math.absExact(l)
              : x instanceof Dec d ? new Dec(d.value().abs(), d.scale()) : Math.abs((Double) x);
      default -> {
        boolean ceil = !name.equals("FLOOR");
        if (x instanceof Long) {
          yield x;
        }
        if (x instanceof Double d) {
          yield ceil ? Math.ceil(d) : Math.floor(d);
        }
        BigDecimal v =
            ((Dec) x).value().setScale(0, ceil ? RoundingMode.CEILING : RoundingMode.FLOOR);
        yield v.toBigInteger().bitLength() < 64 ? (Object) v.longValueExact() : new Dec(v, 0);
      }
    };
  }

  private static Object round(Object x, int places, boolean truncate) {
    RoundingMode mode = truncate ? RoundingMode.DOWN : RoundingMode.HALF_UP;
    if (x instanceof Long l) {
      return places >= 0 ? l : BigDecimal.valueOf(l).setScale(places, mode).longValue();
    }
    if (x instanceof Dec d) {
      return new Dec(
          d.value().setScale(places, mode).setScale(Math.max(0, places)), Math.max(0, places));
    }
    double v = (Double) x;
    double factor = Math.pow(10, Math.abs(places));
    if (places >= 0) {
      double scaled = v * factor;
      double r =
          truncate ? (scaled < 0 ? Math.ceil(scaled) : Math.floor(scaled)) : Math.rint(scaled);
      return r / factor;
    }
    double scaled = v / factor;
    double r = truncate ? (scaled < 0 ? Math.ceil(scaled) : Math.floor(scaled)) : Math.rint(scaled);
    return r * factor;
  }

  private static Object coalesce(Object[] a) {
    Object first = null;
    boolean real = false;
    int scale = -1;
    for (Object v : a) {
      real |= SqlNumber.isReal(v) && !(v instanceof String);
      scale = v instanceof Dec d ? Math.max(scale, d.scale()) : scale;
      if (first == null) {
        first = v;
      }
    }
    if (first instanceof String || first == null) {
      return first;
    }
    if (real) {
      return SqlNumber.real(first);
    }
    if (scale >= 0) {
      Dec d = SqlNumber.dec(first);
      return new Dec(d.value(), Math.max(scale, d.scale()));
    }
    return first;
  }

  private static Object concat(Object[] a) {
    StringBuilder out = new StringBuilder();
    for (Object v : a) {
      if (v == null) {
        return null;
      }
      out.append(text(v));
    }
    return out.toString();
  }

  /** A value as CONCAT writes it. */
  static String text(Object v) {
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Long l) {
      return l.toString();
    }
    if (v instanceof Dec d) {
      return d.shown().toPlainString();
    }
    if (v instanceof Double d && Double.isFinite(d)) {
      double abs = Math.abs(d);
      if (abs == 0) {
        return "0";
      }
      if (abs < 1e15 && abs >= 1e-6) {
        return new BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
      }
    }
    throw new UnsupportedSqlException(
        List.of(),
        "CONCAT of the merged value "
            + v
            + " across data nodes: the router does not reproduce"
            + " the server's text for it");
  }
}
