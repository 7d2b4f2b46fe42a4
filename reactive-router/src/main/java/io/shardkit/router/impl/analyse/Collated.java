package io.shardkit.router.impl.analyse;

import io.shardkit.router.UnsupportedSqlException;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Strings compared exactly as the server compares them, whatever the collation.
 *
 * <p>Why: a merge cannot reproduce a collation by rule of thumb ({@code utf8mb4_general_ci} says
 * {@code 'Zürich' = 'zurich'}, {@code _bin} does not, {@code latin1_swedish_ci} sorts {@code 'Å'}
 * after {@code 'Z'}). So each unit returns, next to every string it sorts or groups by, the value's
 * sort key in the collation that applies to the expression ({@code WEIGHT_STRING(expr)}) and the
 * weight of one space in that collation when the collation pads with spaces ({@code NULL} for NO
 * PAD collations). Two strings compare as their sort keys, the shorter one extended with space
 * weights under PAD SPACE, which is exactly the server's comparison: {@code 'a' = 'a '} under PAD
 * SPACE, and {@code 'a\t' < 'a'} because a tab weighs less than the padding space.
 *
 * <p>A string that arrives without a sort key (a column the plan could not name, e.g. under a
 * wildcard) is never compared by guesswork: two different strings without keys make the statement
 * fail with {@link UnsupportedSqlException}.
 */
public final class Collated {

  private Collated() {}

  /**
   * Compares two values of one key.
   *
   * @param a first value
   * @param weightA its sort key (bytes) or null
   * @param b second value
   * @param weightB its sort key or null
   * @param pad the space weight under PAD SPACE, or null (NO PAD, or no sort keys)
   */
  public static int compare(Object a, Object weightA, Object b, Object weightB, Object pad) {
    if (a instanceof String s && b instanceof String t) {
      if (s.equals(t)) {
        return 0;
      }
      if (length(weightA) < 0 || length(weightB) < 0) {
        throw unkeyed(s, t);
      }
      return compareWeights(weightA, weightB, pad);
    }
    if (isExact(weightA) && isExact(weightB) && a != null && b != null) {
      // a FLOAT: its exact value, which the text protocol rounds to 6 digits
      return Values.compare(weightA, weightB);
    }
    return Values.compare(a, b);
  }

  /**
   * Whether a sort key is a number: the exact value ({@code value + 0e0}) of a FLOAT the merge
   * compares, where string sort keys are bytes.
   */
  private static boolean isExact(Object weight) {
    return weight instanceof Double;
  }

  /** A key with equality as {@link #compare} == 0, for hashing groups and DISTINCT values. */
  public static Object key(Object value, Object weight, Object pad) {
    if (value instanceof String s) {
      byte[] w = bytes(weight);
      if (w == null) {
        // no sort key: only byte-identical strings may be treated as equal
        return new Unkeyed(s);
      }
      byte[] p = bytes(pad);
      int end = w.length;
      if (p != null && p.length > 0) {
        while (end >= p.length && Arrays.equals(w, end - p.length, end, p, 0, p.length)) {
          end -= p.length;
        }
      }
      return ByteBuffer.wrap(w, 0, end).slice();
    }
    if (value != null && isExact(weight)) {
      return Values.key(weight);
    }
    return Values.key(value);
  }

  /**
   * A string without a sort key, as a hash key: equal only to the identical string. A merge that
   * meets two different ones in one column cannot tell whether the server would have merged them,
   * so it refuses (see {@link UnkeyedGuard}).
   */
  public record Unkeyed(String text) {}

  /** Remembers the first unkeyed string per column; a second, different one fails the merge. */
  public static final class UnkeyedGuard {
    private final String[] first;

    public UnkeyedGuard(int columns) {
      first = new String[columns];
    }

    public void check(int column, Object key) {
      if (key instanceof Unkeyed u) {
        if (first[column] == null) {
          first[column] = u.text();
        } else if (!first[column].equals(u.text())) {
          throw unkeyed(first[column], u.text());
        }
      }
    }
  }

  static UnsupportedSqlException unkeyed(String a, String b) {
    return new UnsupportedSqlException(
        List.of(),
        "cannot compare the strings '"
            + abbreviate(a)
            + "' and '"
            + abbreviate(b)
            + "' from several data nodes without the server's collation: name the column in the"
            + " select list instead of reaching it through a wildcard or a position");
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  /**
   * Compares two sort keys (Buffers as the driver returns them, or byte arrays) without copying
   * them: this runs for every comparison of a k-way merge.
   */
  static int compareWeights(Object x, Object y, Object pad) {
    int lx = length(x);
    int ly = length(y);
    int n = Math.min(lx, ly);
    for (int i = 0; i < n; i++) {
      int c = Byte.compareUnsigned(byteAt(x, i), byteAt(y, i));
      if (c != 0) {
        return Integer.signum(c);
      }
    }
    if (lx == ly) {
      return 0;
    }
    int lp = length(pad);
    if (lp <= 0) {
      return lx < ly ? -1 : 1;
    }
    Object longer = lx > ly ? x : y;
    int sign = lx > ly ? 1 : -1;
    for (int i = n; i < Math.max(lx, ly); i++) {
      int d = Byte.compareUnsigned(byteAt(longer, i), byteAt(pad, (i - n) % lp));
      if (d != 0) {
        return sign * Integer.signum(d);
      }
    }
    return 0;
  }

  private static int length(Object v) {
    if (v instanceof Buffer b) {
      return b.length();
    }
    return v instanceof byte[] b ? b.length : -1;
  }

  private static byte byteAt(Object v, int i) {
    return v instanceof Buffer b ? b.getByte(i) : ((byte[]) v)[i];
  }

  static byte[] bytes(Object v) {
    if (v instanceof Buffer b) {
      return b.getBytes();
    }
    if (v instanceof byte[] b) {
      return b;
    }
    return null;
  }
}
