package io.shardkit.router.fuzz;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Random;

/**
 * Values for conditions and writes on a column: mostly values the rows hold, sometimes what users
 * also send: integers as strings ({@code '017'}, {@code ' 17'}), numbers past 64 bits, decimals for
 * integer columns, strings that differ only in case, accents or trailing spaces.
 */
final class Literals {

  private static final List<Object> ODD_INTEGERS =
      List.of(
          "017",
          " 17",
          "17",
          "-3",
          "7.0",
          new BigDecimal("7.0"),
          new BigDecimal("2.5"),
          new BigInteger("18446744073709551615"),
          new BigInteger("18446744073709551616"),
          new BigInteger("99999999999999999999"),
          new BigInteger("-9223372036854775809"));

  private final Random random;
  private final boolean extended;

  Literals(Random random, boolean extended) {
    this.random = random;
    this.extended = extended;
  }

  /** Whether the second generation's forms are on ({@link FuzzConfig#extended}). */
  boolean extended() {
    return extended;
  }

  /** A value to compare a column with, or to write into it. */
  Object valueFor(FuzzTable table, FuzzColumn column) {
    boolean key = column.name().equals("k");
    ColumnType type = column.type();
    boolean integral =
        switch (type.kind()) {
          case INT, BIGINT, UNSIGNED -> true;
          default -> false;
        };
    if (integral && random.nextInt(100) < 15) {
      return pick(ODD_INTEGERS);
    }
    if (key && type.isString() && random.nextInt(100) < 10) {
      // a number compares numerically with a string key; a decomposed accent
      return pick(List.of(123L, 17L, "123", "Zoe\u0308@example.com", "ZURICH "));
    }
    if (key && extended && random.nextInt(100) < 25) {
      Object odd = oddKey(type.kind());
      if (odd != null) {
        return odd;
      }
    }
    List<Object> pool = key ? FuzzSchema.keyValues(table) : type.interestingValues();
    Object v = pick(pool);
    if (v == null && random.nextInt(3) > 0) {
      v = pick(pool);
    }
    if (integral && v instanceof Long l && random.nextInt(100) < 10) {
      return String.valueOf(l);
    }
    if (v instanceof java.time.LocalDateTime t && random.nextInt(100) < 15) {
      return SqlText.literal(t).replace("'", ""); // a DATETIME as a string
    }
    if (v != null && random.nextInt(100) < 20) {
      return oddForm(type, v);
    }
    return extended ? javaType(v) : v;
  }

  /**
   * Another Java type for the same value, as applications bind them (second generation only): an
   * Integer or Short for a small Long, a Double for an integral Long below 2^53, a LocalDate for a
   * midnight LocalDateTime, a LocalDateTime for a LocalDate, a Float for a Double a float holds.
   */
  private Object javaType(Object v) {
    if (random.nextInt(100) >= 15) {
      return v;
    }
    if (v instanceof Long l) {
      return switch (random.nextInt(3)) {
        case 0 -> l == l.intValue() ? (Object) l.intValue() : v;
        case 1 -> l == l.shortValue() ? (Object) l.shortValue() : v;
        default -> Math.abs(l) < (1L << 53) ? (Object) l.doubleValue() : v;
      };
    }
    if (v instanceof java.time.LocalDateTime t
        && t.toLocalTime().equals(java.time.LocalTime.MIDNIGHT)) {
      return t.toLocalDate();
    }
    if (v instanceof java.time.LocalDate d) {
      return d.atStartOfDay();
    }
    if (v instanceof Double d && (double) d.floatValue() == d) {
      return d.floatValue();
    }
    return v;
  }

  /**
   * A key as users also write it, where the server converts it before comparing: decimals with more
   * digits than the column's scale, as strings or doubles; datetimes and numbers for a DATE;
   * decimals and strings for a DOUBLE; two-digit years. Null for the other key kinds.
   */
  Object oddKey(ColumnType.Kind kind) {
    List<Object> forms =
        switch (kind) {
          case DECIMAL ->
              List.of(
                  "1.5",
                  "01.50",
                  1.5,
                  new BigDecimal("1.005"),
                  new BigDecimal("1.0100000000000000001"),
                  2L,
                  4L,
                  "1.01",
                  new BigDecimal("2.350"),
                  new BigDecimal("-1.01"));
          case DATE ->
              List.of(
                  "2024-02-15 00:00:00",
                  "2024-02-15 10:00:00",
                  "20240215",
                  20240215L,
                  20240215000000L,
                  java.time.LocalDateTime.of(2024, 2, 15, 0, 0),
                  java.time.LocalDateTime.of(2024, 2, 16, 10, 0),
                  "2024/2/15");
          case DOUBLE ->
              List.of(
                  new BigDecimal("0.1000000000000000055"),
                  new BigDecimal("0.10"),
                  "0.10",
                  0.1f,
                  10_000_000_000L,
                  "1e10",
                  9007199254740993L,
                  new BigDecimal("2.50"),
                  -0.0);
          case YEAR -> List.of(24L, "24", "2024", 0L, "0", "00", 70L, 1L, "1", 99L);
          case TIME ->
              List.of(
                  "12:30",
                  "12:30:00",
                  "12:30:00.000",
                  " 12:30:00",
                  "-12:30:00",
                  "25:00:00",
                  123000L,
                  "123000",
                  java.time.LocalTime.of(12, 30),
                  java.time.Duration.ofMinutes(750).plusMillis(400));
          default -> List.of();
        };
    return forms.isEmpty() ? null : pick(forms);
  }

  /**
   * Another spelling of a value of the newer column types: bit literals, hex and text for binary
   * columns, the {@code D HH:MM:SS} and HHMMSS forms of a TIME, two-digit and string years, doubles
   * and decimals compared with a FLOAT.
   */
  private Object oddForm(ColumnType type, Object v) {
    return switch (type.kind()) {
      case BIT -> {
        java.math.BigInteger b =
            v instanceof java.math.BigInteger i ? i : java.math.BigInteger.valueOf((Long) v);
        yield random.nextBoolean()
            ? new SqlText.Raw("b'" + b.toString(2) + "'", v)
            : new SqlText.Raw("0x" + (b.signum() == 0 ? "00" : pad(b.toString(16))), v);
      }
      case YEAR -> pick(List.of("0000", "0", "00", "24", "70", "2024", 24L, 70L, 1900L + 1));
      case TIME ->
          pick(
              List.of(
                  new SqlText.Raw("'1 01:00:00'", java.time.Duration.ofHours(25)),
                  new SqlText.Raw("'-1 01:00:00'", java.time.Duration.ofHours(-25)),
                  new SqlText.Raw("'12:30'", java.time.Duration.ofMinutes(750)),
                  123000L,
                  "123000",
                  -123000L,
                  SqlText.time((java.time.Duration) v)));
      case FLOAT ->
          pick(
              List.of(
                  ((Float) v).doubleValue(),
                  0.1,
                  new BigDecimal("123456.79"),
                  new BigDecimal(Float.toString((Float) v)),
                  123457L,
                  "0.1"));
      case BINARY -> pick(List.of("a", "A", "abcd", "", new SqlText.Raw("_binary'a'", "a")));
      case JSON -> pick(List.of("{\"a\":1}", "x", 1L, "[1,2]"));
      default -> v;
    };
  }

  private static String pad(String hex) {
    return hex.length() % 2 == 0 ? hex : "0" + hex;
  }

  /** A value that can be written into the column without an error (no odd forms). */
  Object storableFor(FuzzTable table, FuzzColumn column) {
    if (FuzzSchema.isComplex(table) && column.name().equals("c1")) {
      return pick(FuzzSchema.complexSecondValues(table));
    }
    List<Object> pool =
        column.name().equals("k") ? FuzzSchema.keyValues(table) : column.type().interestingValues();
    return pick(pool);
  }

  <T> T pick(List<T> values) {
    return values.get(random.nextInt(values.size()));
  }

  boolean chance(int percent) {
    return random.nextInt(100) < percent;
  }

  int between(int low, int high) {
    return low + random.nextInt(high - low + 1);
  }
}
