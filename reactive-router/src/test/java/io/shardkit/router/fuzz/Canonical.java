package io.shardkit.router.fuzz;

import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The comparable text of a result value under a {@link ValueCompare}: numbers by value whatever
 * their Java type (1.50 and 1.5 are one value), floating point to 9 significant digits when
 * approximate, strings byte for byte or by collation key, GROUP_CONCAT element by element.
 */
final class Canonical {

  private static final MathContext APPROX_DIGITS = new MathContext(9);
  private final CollationKey collations;

  Canonical(CollationKey collations) {
    this.collations = collations;
  }

  List<String> row(List<Object> row, List<ValueCompare> compares) {
    List<String> out = new ArrayList<>(row.size());
    for (int i = 0; i < row.size(); i++) {
      out.add(value(row.get(i), i < compares.size() ? compares.get(i) : ValueCompare.EXACT));
    }
    return out;
  }

  String value(Object v, ValueCompare compare) {
    if (v == null) {
      return null;
    }
    return switch (compare.mode()) {
      case EXACT -> exact(v);
      case APPROX -> approx(v);
      case DIVISION -> division(v);
      case BITS -> bits(v);
      case COLLATION ->
          v instanceof String s ? "~" + collations.key(compare.collation(), s) : exact(v);
      case CONCAT ->
          v instanceof String s
              ? concat(s, compare)
              : v instanceof Buffer b
                  // GROUP_CONCAT of binary values is binary: its elements byte for byte
                  ? "0x"
                      + concat(
                          new String(b.getBytes(), java.nio.charset.StandardCharsets.ISO_8859_1),
                          new ValueCompare(
                              ValueCompare.Mode.CONCAT,
                              null,
                              compare.separator(),
                              compare.concatOrdered()))
                  : exact(v);
    };
  }

  private String concat(String s, ValueCompare compare) {
    if (compare.separator().isEmpty()) {
      return compare.concatOrdered() ? element(s, compare) : characters(s, compare);
    }
    List<String> parts = new ArrayList<>();
    for (String part : s.split(Pattern.quote(compare.separator()), -1)) {
      parts.add(element(part, compare));
    }
    if (!compare.concatOrdered()) {
      parts.sort(null);
    }
    return "[" + String.join("\u0001", parts) + "]";
  }

  /**
   * Without a separator the elements cannot be told apart, and their order is unspecified: compare
   * the multiset of the characters' collation weights. A character may weigh as several (ß is ss in
   * utf8mb4_unicode_ci), so each character's sort key is cut into weights of the width the
   * collation gives one letter, and the weights are compared, not the characters.
   */
  private String characters(String s, ValueCompare compare) {
    int width =
        compare.collation() == null
            ? Integer.MAX_VALUE
            : Math.max(1, collations.key(compare.collation(), "a").length());
    List<String> weights = new ArrayList<>();
    s.codePoints()
        .forEach(
            c -> {
              String key = element(Character.toString(c), compare);
              for (int i = 0; i < key.length(); i += width) {
                weights.add(key.substring(i, Math.min(key.length(), i + width)));
              }
            });
    weights.sort(null);
    return "{" + String.join("\u0001", weights) + "}";
  }

  private String element(String s, ValueCompare compare) {
    return compare.collation() == null ? s : collations.key(compare.collation(), s);
  }

  static String exact(Object v) {
    if (v instanceof Numeric n) {
      BigDecimal d = n.bigDecimalValue();
      return d == null ? n.toString() : plain(d);
    }
    if (v instanceof BigDecimal d) {
      return plain(d);
    }
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      return Double.isFinite(d)
          ? plain(nine(new BigDecimal(Double.toString(d))))
          : Double.toString(d);
    }
    if (v instanceof Number n) {
      return plain(new BigDecimal(n.toString()));
    }
    if (v instanceof Boolean b) {
      return b ? "1" : "0";
    }
    if (v instanceof Buffer b) {
      return "0x" + HexFormat.of().formatHex(b.getBytes());
    }
    if (v instanceof String s) {
      return "'" + s + "'";
    }
    return v.toString();
  }

  /**
   * A BIT value or MIN/MAX in any of the server's encodings (see {@link ValueCompare.Mode#BITS}): a
   * number whose bytes are decimal digits may be such digits as the driver read them ({@code 17}
   * sent as text comes back as 0x3137 = 12599), so it reads as the number they spell, repeatedly;
   * both encodings of a value then read alike (seed 153, generation 4: a BIT(16) key holding 12599
   * came back as the Long 12599 from one side and as an unsigned 12599 from the other). Values
   * whose bytes spell another value's digits (12599 and 17, 55 and 7) read alike too.
   */
  static String bits(Object v) {
    String text;
    if (v instanceof Numeric || v instanceof Number && !(v instanceof Long)) {
      // described as an unsigned integer (a Numeric, or a Short or Integer for a narrow BIT): its
      // digits are the number
      text = exact(v);
      if (text.startsWith("-")) {
        return text;
      }
    } else if (v instanceof Long l) {
      text = Long.toUnsignedString(l);
    } else {
      return exact(v);
    }
    // the driver keeps the last 8 digits of a long text: read spelled digits before and after
    java.math.BigInteger n =
        new java.math.BigInteger(lastEight(unspell(new java.math.BigInteger(text)).toString()));
    return "bits:" + unspell(n);
  }

  private static java.math.BigInteger unspell(java.math.BigInteger n) {
    for (java.math.BigInteger d = spelled(n); d != null; d = spelled(n)) {
      n = d;
    }
    return n;
  }

  /** The last 8 decimal digits: all the driver keeps of a value sent as its digits. */
  private static String lastEight(String digits) {
    return digits.length() > 8 ? digits.substring(digits.length() - 8) : digits;
  }

  /** The number a positive value's bytes spell as decimal digits, or null. */
  private static java.math.BigInteger spelled(java.math.BigInteger n) {
    if (n.signum() <= 0) {
      return null;
    }
    byte[] bytes = n.toByteArray();
    int start = bytes.length > 1 && bytes[0] == 0 ? 1 : 0;
    StringBuilder digits = new StringBuilder();
    for (int i = start; i < bytes.length; i++) {
      if (bytes[i] < '0' || bytes[i] > '9') {
        return null;
      }
      digits.append((char) bytes[i]);
    }
    return new java.math.BigInteger(digits.toString());
  }

  private static String division(Object v) {
    BigDecimal d = null;
    if (v instanceof Numeric n) {
      d = n.bigDecimalValue();
    } else if (v instanceof BigDecimal b) {
      d = b;
    } else if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
      d = new BigDecimal(n.toString());
    }
    return d == null
        ? approx(v)
        : plain(d.setScale(3, java.math.RoundingMode.HALF_UP).round(APPROX_DIGITS));
  }

  private static String approx(Object v) {
    BigDecimal d = null;
    if (v instanceof Numeric n) {
      d = n.bigDecimalValue();
    } else if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
      d = new BigDecimal(n.toString());
    } else if (v instanceof String s) {
      try {
        d = new BigDecimal(s.strip());
      } catch (NumberFormatException e) {
        return exact(v);
      }
    }
    return d == null ? exact(v) : plain(nine(d));
  }

  /**
   * 9 significant digits, after rounding to 15 (what a double holds reliably): two doubles an ulp
   * apart on either side of a 9-digit tie (4033.4843749999995 and 4033.484375, the same variance
   * summed in two orders) read alike.
   */
  private static BigDecimal nine(BigDecimal d) {
    return d.round(new MathContext(15)).round(APPROX_DIGITS);
  }

  private static String plain(BigDecimal d) {
    BigDecimal s = d.stripTrailingZeros();
    return s.signum() == 0 ? "0" : s.toPlainString();
  }
}
