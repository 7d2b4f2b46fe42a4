package io.shardkit.router.fuzz;

import io.vertx.core.buffer.Buffer;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One column type the generator can give a column: its DDL, its kind (which decides how values are
 * generated and compared) and, for strings, its collation.
 *
 * @param ddl the type as written in CREATE TABLE, without the collation
 * @param kind what its values are
 * @param collation the collation of a string column, null for other kinds
 */
record ColumnType(String ddl, Kind kind, String collation) {

  /** What a column holds. */
  enum Kind {
    INT,
    BIGINT,
    UNSIGNED,
    DECIMAL,
    DOUBLE,
    STRING,
    DATETIME,
    DATE,
    ENUM,
    SET,
    /** FLOAT: single precision, sent by the text protocol with 6 significant digits. */
    FLOAT,
    /** BIT(n): unsigned bit fields, decoded as (possibly negative) longs. */
    BIT,
    /** BINARY(n) / VARBINARY(n): bytes; BINARY pads with 0x00. */
    BINARY,
    YEAR,
    /** TIME or TIME(6): durations, negative and past 24 hours. */
    TIME,
    /** TIMESTAMP(n) NULL: a DATETIME converted through the session time zone. */
    TIMESTAMP,
    /** JSON: on MariaDB a LONGTEXT in utf8mb4_bin with a json_valid check. */
    JSON,
    /**
     * MariaDB's UUID (fourth generation): stored lower case with hyphens at 8-4-4-4-12 whatever
     * form was written, ordered by the server's own segment rules.
     */
    UUID,
    /** MariaDB's INET6 (fourth generation): 16 bytes, ordered by the binary address. */
    INET6,
    /** MariaDB's INET4 (fourth generation): 4 bytes, ordered by the binary address. */
    INET4
  }

  static final ColumnType INT = new ColumnType("INT", Kind.INT, null);
  static final ColumnType BIGINT = new ColumnType("BIGINT", Kind.BIGINT, null);
  static final ColumnType BIGINT_UNSIGNED = new ColumnType("BIGINT UNSIGNED", Kind.UNSIGNED, null);
  static final ColumnType DOUBLE = new ColumnType("DOUBLE", Kind.DOUBLE, null);
  static final ColumnType DATETIME = new ColumnType("DATETIME", Kind.DATETIME, null);
  static final ColumnType DATE = new ColumnType("DATE", Kind.DATE, null);
  static final ColumnType ENUM = new ColumnType("ENUM('b','a','c')", Kind.ENUM, null);
  static final ColumnType SET = new ColumnType("SET('y','x','z')", Kind.SET, null);
  static final ColumnType FLOAT = new ColumnType("FLOAT", Kind.FLOAT, null);
  static final ColumnType BIT64 = new ColumnType("BIT(64)", Kind.BIT, null);
  static final ColumnType BIT5 = new ColumnType("BIT(5)", Kind.BIT, null);
  static final ColumnType BINARY4 = new ColumnType("BINARY(4)", Kind.BINARY, null);
  static final ColumnType VARBINARY8 = new ColumnType("VARBINARY(8)", Kind.BINARY, null);
  static final ColumnType YEAR = new ColumnType("YEAR", Kind.YEAR, null);
  static final ColumnType TIME = new ColumnType("TIME", Kind.TIME, null);
  static final ColumnType TIME6 = new ColumnType("TIME(6)", Kind.TIME, null);
  static final ColumnType DATETIME6 = new ColumnType("DATETIME(6)", Kind.DATETIME, null);
  static final ColumnType TIMESTAMP3 = new ColumnType("TIMESTAMP(3) NULL", Kind.TIMESTAMP, null);
  static final ColumnType JSON = new ColumnType("JSON", Kind.JSON, null);
  static final ColumnType UUID = new ColumnType("UUID", Kind.UUID, null);
  static final ColumnType INET6 = new ColumnType("INET6", Kind.INET6, null);
  static final ColumnType INET4 = new ColumnType("INET4", Kind.INET4, null);

  /** The fourth generation's BIT key: wide enough for the bytes of a two-character string. */
  static final ColumnType BIT16 = new ColumnType("BIT(16)", Kind.BIT, null);

  static ColumnType decimal(int precision, int scale) {
    return new ColumnType("DECIMAL(" + precision + "," + scale + ")", Kind.DECIMAL, null);
  }

  static ColumnType varchar(String collation) {
    return new ColumnType("VARCHAR(20)", Kind.STRING, collation);
  }

  static ColumnType chars(String collation) {
    return new ColumnType("CHAR(6)", Kind.STRING, collation);
  }

  /** The column definition after the column name. */
  String definition() {
    if (collation == null) {
      return ddl;
    }
    return ddl + " CHARACTER SET " + charset() + " COLLATE " + collation;
  }

  String charset() {
    return collation == null ? null : collation.substring(0, collation.indexOf('_'));
  }

  boolean isNumeric() {
    return switch (kind) {
      case INT, BIGINT, UNSIGNED, DECIMAL, DOUBLE, FLOAT, BIT, YEAR -> true;
      default -> false;
    };
  }

  /** Whether values are approximate (DOUBLE, FLOAT): their sums depend on the order of addition. */
  boolean isFloating() {
    return kind == Kind.DOUBLE || kind == Kind.FLOAT;
  }

  /** Whether the column has fractional seconds ({@code TIME(6)}, {@code DATETIME(6)}, ...). */
  boolean fractional() {
    return ddl.matches("(?i)(TIME|DATETIME|TIMESTAMP)\\([1-6]\\).*");
  }

  boolean isString() {
    return kind == Kind.STRING;
  }

  boolean isChar() {
    return ddl.startsWith("CHAR");
  }

  /** A short tag for column names and reports, e.g. {@code dec}, {@code str}. */
  String tag() {
    return switch (kind) {
      case INT -> "int";
      case BIGINT -> "big";
      case UNSIGNED -> "ubig";
      case DECIMAL -> "dec";
      case DOUBLE -> "dbl";
      case STRING -> isChar() ? "chr" : "str";
      case DATETIME -> "dt";
      case DATE -> "d";
      case ENUM -> "enum";
      case SET -> "set";
      case FLOAT -> "flt";
      case BIT -> "bit";
      case BINARY -> ddl.startsWith("VAR") ? "vbin" : "bin";
      case YEAR -> "yr";
      case TIME -> "tm";
      case TIMESTAMP -> "ts";
      case JSON -> "json";
      case UUID -> "uuid";
      case INET6 -> "inet6";
      case INET4 -> "inet4";
    };
  }

  /**
   * The values rows take, with duplicates and NULL: what real users store (accents, case, trailing
   * spaces, negative numbers, the ends of each integer range).
   */
  List<Object> interestingValues() {
    List<Object> out = new ArrayList<>();
    out.add(null);
    switch (kind) {
      case INT -> add(out, -17L, -1L, 0L, 1L, 2L, 3L, 7L, 17L, 17L, 42L, 100L, 2147483647L);
      case BIGINT ->
          add(out, Long.MIN_VALUE, -5L, 0L, 5L, 17L, 17L, 1_000_000_000_000L, Long.MAX_VALUE);
      case UNSIGNED ->
          add(
              out,
              BigInteger.ZERO,
              BigInteger.ONE,
              BigInteger.valueOf(17),
              new BigInteger("9223372036854775808"),
              new BigInteger("18446744073709551615"));
      case DECIMAL -> out.addAll(decimals());
      case DOUBLE -> add(out, -1.5, 0.0, 0.1, 0.1, 2.5, 3.25, 1e10);
      case STRING -> out.addAll(strings());
      case DATETIME -> {
        add(
            out,
            LocalDateTime.of(2024, 1, 15, 10, 0),
            LocalDateTime.of(2024, 1, 15, 10, 0),
            LocalDateTime.of(2024, 2, 29, 23, 59, 59),
            LocalDateTime.of(2023, 12, 31, 0, 0),
            LocalDateTime.of(2024, 3, 1, 0, 0));
        if (fractional()) {
          add(
              out,
              LocalDateTime.of(2024, 1, 15, 10, 0, 0, 123_456_000),
              LocalDateTime.of(2024, 1, 15, 10, 0, 0, 123_457_000),
              LocalDateTime.of(2024, 1, 15, 10, 0, 0, 500_000_000),
              LocalDateTime.of(1000, 1, 1, 0, 0),
              LocalDateTime.of(9999, 12, 31, 23, 59, 59, 999_999_000));
        }
      }
      case TIMESTAMP ->
          // within 1970..2038 in any session time zone
          add(
              out,
              LocalDateTime.of(1970, 1, 2, 0, 0),
              LocalDateTime.of(2000, 1, 1, 0, 0, 0, 1_000_000),
              LocalDateTime.of(2024, 1, 15, 10, 0, 0, 500_000_000),
              LocalDateTime.of(2024, 1, 15, 10, 0, 0, 500_000_000),
              LocalDateTime.of(2024, 1, 15, 10, 0),
              LocalDateTime.of(2038, 1, 18, 0, 0));
      case FLOAT ->
          // 0.1 is not a float; 123456.79 and 123456.8 are two floats the text protocol shows
          // alike (123457); 16777217 is stored as 16777216
          add(out, -1.5f, 0.0f, 0.1f, 0.1f, 0.3f, 2.5f, 123456.79f, 123456.8f, 16777217f, 1e10f);
      case BIT -> {
        add(out, 0L, 1L, 5L, 5L, 17L, 31L);
        if (ddl.contains("64")) {
          add(
              out,
              255L,
              Long.MAX_VALUE,
              new BigInteger("9223372036854775808"),
              new BigInteger("18446744073709551615"));
        }
      }
      case BINARY -> {
        boolean padded = !ddl.startsWith("VAR");
        add(out, bytes(), bytes(0), bytes(0, 0), bytes(0x61), bytes(0x61), bytes(0x41));
        add(out, bytes(0x61, 0), bytes(0xff), bytes(0x80, 0x01), bytes(0x61, 0x62, 0x63, 0x64));
        if (!padded) {
          add(out, bytes(0x61, 0, 0), bytes(0x61, 0x62, 0x63, 0x64, 0, 0xff, 0x7f, 0x20));
        }
      }
      case YEAR -> add(out, 0L, 1901L, 1970L, 1999L, 2000L, 2024L, 2024L, 2069L, 2155L);
      case TIME -> {
        add(
            out,
            Duration.ZERO,
            Duration.ofHours(12).plusMinutes(30),
            Duration.ofHours(12).plusMinutes(30),
            Duration.ofHours(-12).minusMinutes(30),
            Duration.ofSeconds(-1),
            Duration.ofHours(25),
            Duration.ofHours(838).plusMinutes(59).plusSeconds(59),
            Duration.ofHours(-838).minusMinutes(59).minusSeconds(59));
        if (fractional()) {
          add(
              out,
              Duration.ofMillis(500),
              Duration.ofNanos(-1_000),
              Duration.ofHours(12).plusMinutes(30).plusNanos(123_456_000),
              Duration.ofHours(-25).minusNanos(500_000_000));
        }
      }
      case JSON ->
          add(
              out,
              "{\"a\": 1}",
              "{\"a\":1}",
              "{\"a\": 1}",
              "{\"a\": \"Zürich\", \"b\": [1, 2.5, null]}",
              "[1, 2]",
              "[2, 1]",
              "[]",
              "{}",
              "\"x\"",
              "\"Zürich\"",
              "1",
              "1.5",
              "-0",
              "10",
              "null",
              "true",
              "false");
      case DATE ->
          add(
              out,
              LocalDate.of(2024, 1, 15),
              LocalDate.of(2024, 1, 15),
              LocalDate.of(2024, 2, 29),
              LocalDate.of(1999, 12, 31));
      case ENUM -> add(out, "a", "b", "c", "b");
      case SET -> add(out, "", "x", "y", "x,z", "y,z", "y,x,z");
      case UUID ->
          // the stored forms and others the server normalizes (upper case, no hyphens); versions 1,
          // 4, 7 and a non-RFC variant, whose order MariaDB defines segment by segment
          add(
              out,
              "00000001-0000-1000-8000-000000000002",
              "00000001-0000-1000-8000-000000000002",
              "00000002-0000-1000-8000-000000000001",
              "ffffffff-0000-1000-8000-000000000000",
              "123e4567-e89b-12d3-a456-426655440000",
              "123E4567E89B12D3A456426655440000",
              "00000003-0000-4000-8000-000000000001",
              "aaaaaaaa-bbbb-4ccc-9ddd-eeeeeeeeeeee",
              "018f2b6e-7a00-7c3d-8e4f-0123456789ab",
              "00000000-0000-0000-0000-000000000000",
              "ffffffff-ffff-ffff-ffff-ffffffffffff",
              "01234567-89AB-4DEF-8123-456789ABCDEF");
      case INET6 ->
          // spellings of one address ('2001:DB8::1', '2001:db8:0::1'), IPv4-mapped addresses
          // (also written as IPv4 text), whose text orders otherwise than their bytes
          add(
              out,
              "::",
              "::1",
              "::1",
              "2001:db8::1",
              "2001:DB8:0::1",
              "2001:db8::ff00:42:8329",
              "::ffff:10.0.0.1",
              "10.0.0.1",
              "::ffff:9.255.255.255",
              "fe80::1",
              "ffff::",
              "::ffff:1.2.3.4");
      case INET4 ->
          add(
              out,
              "0.0.0.0",
              "10.0.0.1",
              "10.0.0.1",
              "9.255.255.255",
              "192.168.1.1",
              "100.0.0.0",
              "2.0.0.0",
              "255.255.255.255");
    }
    return out;
  }

  /**
   * The decimals the text protocol shows a variance of this column with (the argument's scale + 4
   * for an integer or DECIMAL, see the router's {@code Spread}), or -1 when it is sent unrounded.
   */
  int shownVarianceScale() {
    return switch (kind) {
      case INT, BIGINT, UNSIGNED -> 4;
      case DECIMAL -> Integer.parseInt(ddl.substring(ddl.indexOf(',') + 1, ddl.length() - 1)) + 4;
      default -> -1;
    };
  }

  private List<Object> decimals() {
    int open = ddl.indexOf('(');
    int comma = ddl.indexOf(',');
    int precision = Integer.parseInt(ddl.substring(open + 1, comma));
    int scale = Integer.parseInt(ddl.substring(comma + 1, ddl.length() - 1));
    BigDecimal max =
        BigDecimal.TEN.pow(precision - scale).subtract(BigDecimal.ONE.movePointLeft(scale));
    List<Object> out = new ArrayList<>();
    for (String s : List.of("-12.5", "0", "1.5", "1.50", "3.333", "-0.01", "17")) {
      BigDecimal d = new BigDecimal(s);
      if (d.abs().compareTo(max) <= 0) {
        out.add(d.setScale(scale, java.math.RoundingMode.HALF_UP));
      }
    }
    out.add(max);
    out.add(max.negate());
    return out;
  }

  private List<Object> strings() {
    List<Object> out = new ArrayList<>();
    for (String s :
        List.of(
            "Zürich", "zurich", "ZURICH", "Zurich ", "Åsa", "åsa", "Asa", "émile", "Émile", "emile",
            "a ", "a", "A", "b", "", "ß", "ss", "017", " 17", "zz")) {
      int max = isChar() ? 6 : 20;
      String v = s.length() > max ? s.substring(0, max) : s;
      out.add(isChar() ? v.stripTrailing() : v);
    }
    return out;
  }

  private static Buffer bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return Buffer.buffer(b);
  }

  private static void add(List<Object> out, Object... values) {
    out.addAll(List.of(values));
  }

  @Override
  public String toString() {
    return definition().toLowerCase(Locale.ROOT);
  }
}
