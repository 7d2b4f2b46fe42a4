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
  private final int generation;

  Literals(Random random, boolean extended) {
    this(random, extended ? 2 : 1);
  }

  Literals(Random random, int generation) {
    this.random = random;
    this.extended = generation >= 2;
    this.generation = generation;
  }

  /** The generation ({@link FuzzConfig#generation}). */
  int generation() {
    return generation;
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
    if (normalized(type.kind()) && random.nextInt(100) < 40) {
      // fourth generation: another spelling of a UUID or address the server normalizes
      List<Object> pool = key ? FuzzSchema.keyValues(table) : type.interestingValues();
      Object v = pick(pool);
      return v == null ? null : spelling(type, v);
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
          case BIT ->
              // a string compares (and stores) its bytes: '7' is 55, '17' is 12599
              List.of(
                  "5",
                  "7",
                  "17",
                  " 5",
                  new BigDecimal("5.0"),
                  new BigDecimal("5.5"),
                  5.0,
                  true,
                  5,
                  (short) 17,
                  new SqlText.Raw("b'101'", 5L),
                  new SqlText.Raw("0x0005", 5L),
                  new SqlText.Raw(
                      "X'3137'", io.vertx.core.buffer.Buffer.buffer(new byte[] {0x31, 0x37})),
                  new BigInteger("12599"),
                  -1L,
                  65536L);
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

  /** Whether values of the kind are stored normalized (UUID, INET6, INET4: fourth generation). */
  static boolean normalized(ColumnType.Kind kind) {
    return kind == ColumnType.Kind.UUID
        || kind == ColumnType.Kind.INET6
        || kind == ColumnType.Kind.INET4;
  }

  private static final java.util.Map<String, List<String>> INET6_SPELLINGS =
      java.util.Map.of(
          "::",
          List.of("0::0", "0:0:0:0:0:0:0:0", "::0"),
          "::1",
          List.of("0:0:0:0:0:0:0:1", "::0:1", "0000::0001"),
          "2001:db8::1",
          List.of("2001:DB8::1", "2001:db8:0::1", "2001:0db8:0000:0000:0000:0000:0000:0001"),
          "::ffff:10.0.0.1",
          List.of("10.0.0.1", "::FFFF:10.0.0.1", "::ffff:a00:1", "0:0:0:0:0:ffff:10.0.0.1"),
          "::ffff:9.255.255.255",
          List.of("9.255.255.255", "::ffff:9ff:ffff"),
          "fe80::1",
          List.of("FE80::1", "fe80:0:0::1", "fe80::0:1"),
          "ffff::",
          List.of("FFFF::", "ffff:0::0"));

  /**
   * Another spelling of a UUID, INET6 or INET4 value, as users write them: a UUID in upper case,
   * without hyphens, with hyphens elsewhere, in braces, as a {@link java.util.UUID} parameter, as
   * 16 bytes, or not a UUID (31 digits, a trailing space or hyphen); an INET6 address in upper
   * case, zero-expanded, with {@code ::} elsewhere, an IPv4-mapped one as IPv4 text, or invalid; an
   * INET4 address as a number, bytes or invalid.
   */
  Object spelling(ColumnType type, Object value) {
    String v = String.valueOf(value);
    return switch (type.kind()) {
      case UUID -> uuidSpelling(v);
      case INET6 -> {
        List<String> known =
            INET6_SPELLINGS.getOrDefault(v.toLowerCase(java.util.Locale.ROOT), List.of());
        int roll = random.nextInt(100);
        if (roll < 50 && !known.isEmpty()) {
          yield pick(known);
        }
        if (roll < 70) {
          yield v.toUpperCase(java.util.Locale.ROOT);
        }
        yield pick(
            List.<Object>of(
                v,
                v + " ",
                "2001:db8::g",
                "1.2.3",
                "",
                ":::1",
                new SqlText.Raw(
                    "X'00000000000000000000ffff0a000001'",
                    io.vertx.core.buffer.Buffer.buffer(
                        java.util.HexFormat.of().parseHex("00000000000000000000ffff0a000001")))));
      }
      case INET4 ->
          pick(
              List.<Object>of(
                  v,
                  v + " ",
                  "010.0.0.1",
                  "10.0.0.256",
                  "::ffff:10.0.0.1",
                  167772161L,
                  "167772161",
                  new SqlText.Raw(
                      "X'0a000001'",
                      io.vertx.core.buffer.Buffer.buffer(new byte[] {10, 0, 0, 1}))));
      default -> value;
    };
  }

  private Object uuidSpelling(String v) {
    String hex = v.replace("-", "").toLowerCase(java.util.Locale.ROOT);
    if (hex.length() != 32) {
      return v;
    }
    String canonical =
        hex.substring(0, 8)
            + "-"
            + hex.substring(8, 12)
            + "-"
            + hex.substring(12, 16)
            + "-"
            + hex.substring(16, 20)
            + "-"
            + hex.substring(20);
    return switch (random.nextInt(16)) {
      case 0 -> canonical.toUpperCase(java.util.Locale.ROOT);
      case 1 -> hex;
      case 2 -> hex.toUpperCase(java.util.Locale.ROOT);
      case 3 -> hex.replaceAll("(.{4})(?!$)", "$1-"); // a hyphen after every 4 digits
      case 4 -> hex.charAt(0) + "-" + hex.substring(1); // one hyphen, after the first digit
      case 5 -> canonical.replace("-", "--");
      case 6 -> "{" + canonical + "}";
      case 7, 8 -> new SqlText.Raw("'" + canonical + "'", java.util.UUID.fromString(canonical));
      case 9 -> canonical + " ";
      case 10 -> "-" + canonical;
      case 11 ->
          // 31 digits, or version 12 of the NCS variant, which MariaDB 11.4 does not store
          random.nextBoolean()
              ? canonical.substring(0, 35)
              : "01234567-89ab-cdef-0123-456789abcdef";
      case 12 -> {
        StringBuilder mixed = new StringBuilder();
        for (int i = 0; i < canonical.length(); i++) {
          char c = canonical.charAt(i);
          mixed.append(i % 2 == 0 ? Character.toUpperCase(c) : c);
        }
        yield mixed.toString();
      }
      case 13 ->
          new SqlText.Raw(
              "X'" + hex + "'",
              io.vertx.core.buffer.Buffer.buffer(java.util.HexFormat.of().parseHex(hex)));
      case 14 -> canonical + "-";
      default -> canonical;
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
