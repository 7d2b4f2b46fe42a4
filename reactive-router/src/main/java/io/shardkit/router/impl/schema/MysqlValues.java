package io.shardkit.router.impl.schema;

import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How the server reads a string as a number, a datetime or a time (conversions for comparison). */
public final class MysqlValues {

  private static final Pattern NUMBER_PREFIX =
      Pattern.compile("^[ \\t\\n\\r\\f\\x0B]*([+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?)");
  private static final Pattern DIGITS = Pattern.compile("\\d+");
  private static final Pattern TIME =
      Pattern.compile("^\\s*(-)?(\\d+):(\\d{1,2})(?::(\\d{1,2})(?:\\.(\\d{1,6}))?)?\\s*$");

  private MysqlValues() {}

  /**
   * A string as a double, as the server converts it to compare it with a number: the longest
   * numeric prefix after leading white space, 0 when there is none.
   */
  public static double doubleOf(String s) {
    Matcher m = NUMBER_PREFIX.matcher(s);
    try {
      return m.find() ? Double.parseDouble(m.group(1)) : 0.0;
    } catch (NumberFormatException e) {
      return 0.0;
    }
  }

  /**
   * A string as the exact decimal the server reads to compare it with an integer (MariaDB 11.4
   * compares an integer with a string as DECIMAL, not as doubles: {@code 9007199254740993 =
   * '9007199254740992'} is 0): the longest numeric prefix after leading white space, 0 when there
   * is none.
   */
  public static java.math.BigDecimal decimalOf(String s) {
    Matcher m = NUMBER_PREFIX.matcher(s);
    try {
      return m.find() ? new java.math.BigDecimal(m.group(1)) : java.math.BigDecimal.ZERO;
    } catch (NumberFormatException | ArithmeticException e) {
      return java.math.BigDecimal.ZERO;
    }
  }

  /** A TIME literal ({@code '100:00:00'}, {@code '-1:30'}) as a Duration, or null. */
  public static Duration time(String s) {
    Matcher m = TIME.matcher(s);
    if (!m.matches()) {
      return null;
    }
    long seconds =
        Long.parseLong(m.group(2)) * 3600
            + Long.parseLong(m.group(3)) * 60
            + (m.group(4) == null ? 0 : Long.parseLong(m.group(4)));
    long nanos =
        m.group(5) == null ? 0 : Long.parseLong((m.group(5) + "000000000").substring(0, 9));
    Duration d = Duration.ofSeconds(seconds, nanos);
    return m.group(1) != null ? d.negated() : d;
  }

  public static LocalDateTime dateTime(Object value) {
    if (value instanceof LocalDateTime t) {
      return t;
    }
    if (value instanceof LocalDate d) {
      return d.atStartOfDay();
    }
    if (value instanceof java.time.OffsetDateTime t) {
      // the client sends it as its text (2024-01-15T10:00+02:00, seconds left out when zero),
      // which the server reads by its digit groups: 10:00:02 there, so here too
      return dateTime(t.toString());
    }
    String text;
    if (value instanceof Long || value instanceof Integer) {
      text = value.toString();
    } else if (value instanceof String s) {
      text = s.strip();
    } else {
      return null;
    }
    try {
      if (DIGITS.matcher(text).matches()) {
        return compact(text);
      }
      List<String> parts = new ArrayList<>();
      Matcher m = DIGITS.matcher(text);
      while (m.find()) {
        parts.add(m.group());
      }
      if (parts.size() < 3 || parts.size() > 7) {
        return null;
      }
      int year = year(parts.get(0));
      int[] f = new int[6];
      for (int i = 1; i < Math.min(parts.size(), 6); i++) {
        f[i] = Integer.parseInt(parts.get(i));
      }
      int nanos = 0;
      if (parts.size() == 7) {
        String frac = (parts.get(6) + "000000000").substring(0, 9);
        nanos = Integer.parseInt(frac);
      }
      return LocalDateTime.of(year, f[1], f[2], f[3], f[4], f[5], nanos);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static LocalDateTime compact(String digits) {
    return switch (digits.length()) {
      case 8 ->
          LocalDate.parse(digits, java.time.format.DateTimeFormatter.BASIC_ISO_DATE).atStartOfDay();
      case 6 ->
          LocalDate.of(
                  year(digits.substring(0, 2)),
                  Integer.parseInt(digits.substring(2, 4)),
                  Integer.parseInt(digits.substring(4, 6)))
              .atStartOfDay();
      case 14 ->
          LocalDateTime.of(
              Integer.parseInt(digits.substring(0, 4)),
              Integer.parseInt(digits.substring(4, 6)),
              Integer.parseInt(digits.substring(6, 8)),
              Integer.parseInt(digits.substring(8, 10)),
              Integer.parseInt(digits.substring(10, 12)),
              Integer.parseInt(digits.substring(12, 14)));
      case 12 ->
          LocalDateTime.of(
              year(digits.substring(0, 2)),
              Integer.parseInt(digits.substring(2, 4)),
              Integer.parseInt(digits.substring(4, 6)),
              Integer.parseInt(digits.substring(6, 8)),
              Integer.parseInt(digits.substring(8, 10)),
              Integer.parseInt(digits.substring(10, 12)));
      default -> null;
    };
  }

  /** A year as the server reads it: two digits are 1970-2069. */
  private static int year(String text) {
    int y = Integer.parseInt(text);
    if (text.length() <= 2) {
      return y < 70 ? 2000 + y : 1900 + y;
    }
    return y;
  }
}
