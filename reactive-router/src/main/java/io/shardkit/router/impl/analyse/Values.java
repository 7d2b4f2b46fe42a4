package io.shardkit.router.impl.analyse;

import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Locale;

/**
 * Comparison and equality of column values the way MySQL/MariaDB sort and group them by default:
 * numbers by value whatever their Java type, strings case-insensitively with trailing spaces
 * ignored (the {@code _ci} PAD SPACE collations), NULL lowest.
 */
public final class Values {

  private Values() {}

  /** Compares two values; NULL sorts first (as in MySQL ascending order). */
  public static int compare(Object a, Object b) {
    if (a == b) {
      return 0;
    }
    if (a == null) {
      return -1;
    }
    if (b == null) {
      return 1;
    }
    if (isIntegral(a) && isIntegral(b)) {
      return Long.compare(((Number) a).longValue(), ((Number) b).longValue());
    }
    if (isNumber(a) && isNumber(b)) {
      if ((a instanceof Double || a instanceof Float)
          && (b instanceof Double || b instanceof Float)) {
        return Double.compare(((Number) a).doubleValue(), ((Number) b).doubleValue());
      }
      return toBigDecimal(a).compareTo(toBigDecimal(b));
    }
    if (a instanceof String s && b instanceof String t) {
      return collate(s).compareTo(collate(t));
    }
    if (a instanceof Buffer x && b instanceof Buffer y) {
      return compareBytes(x.getBytes(), y.getBytes());
    }
    if (a instanceof Comparable<?> && a.getClass() == b.getClass()) {
      @SuppressWarnings("unchecked")
      Comparable<Object> c = (Comparable<Object>) a;
      return c.compareTo(b);
    }
    return collate(String.valueOf(a)).compareTo(collate(String.valueOf(b)));
  }

  /** A key with the same equality as {@link #compare} == 0, for hashing groups and DISTINCT. */
  public static Object key(Object value) {
    if (value == null) {
      return NullKey.INSTANCE;
    }
    if (isIntegral(value)) {
      return ((Number) value).longValue();
    }
    if (isNumber(value)) {
      BigDecimal d = toBigDecimal(value).stripTrailingZeros();
      if (d.scale() <= 0 && d.precision() - d.scale() <= 18) {
        return d.longValue();
      }
      return d;
    }
    if (value instanceof String s) {
      return collate(s);
    }
    if (value instanceof Buffer b) {
      return java.nio.ByteBuffer.wrap(b.getBytes());
    }
    return value;
  }

  private enum NullKey {
    INSTANCE
  }

  static String collate(String s) {
    int end = s.length();
    while (end > 0 && s.charAt(end - 1) == ' ') {
      end--;
    }
    return s.substring(0, end).toUpperCase(Locale.ROOT);
  }

  private static int compareBytes(byte[] x, byte[] y) {
    int n = Math.min(x.length, y.length);
    for (int i = 0; i < n; i++) {
      int c = Byte.compareUnsigned(x[i], y[i]);
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(x.length, y.length);
  }

  public static boolean isIntegral(Object v) {
    return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte;
  }

  public static boolean isNumber(Object v) {
    return v instanceof Number || v instanceof Numeric;
  }

  /** Any number (including Vert.x {@link Numeric}) as a BigDecimal. */
  public static BigDecimal toBigDecimal(Object v) {
    if (v instanceof BigDecimal d) {
      return d;
    }
    if (v instanceof Numeric n) {
      return n.bigDecimalValue();
    }
    if (v instanceof BigInteger i) {
      return new BigDecimal(i);
    }
    if (isIntegral(v)) {
      return BigDecimal.valueOf(((Number) v).longValue());
    }
    if (v instanceof Number n) {
      return BigDecimal.valueOf(n.doubleValue());
    }
    throw new IllegalArgumentException(v + " is not a number");
  }
}
