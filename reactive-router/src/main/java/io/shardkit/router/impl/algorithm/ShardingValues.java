package io.shardkit.router.impl.algorithm;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.temporal.Temporal;
import java.util.zip.CRC32;

/** Conversions of sharding values shared by the built-in algorithms. */
public final class ShardingValues {

  private ShardingValues() {}

  /** The value as a long, for integral numbers and numeric strings; otherwise an error. */
  public static long toLong(Object value) {
    if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof BigInteger b) {
      return b.longValueExact();
    }
    if (value instanceof BigDecimal d) {
      return d.longValueExact();
    }
    if (value instanceof String s) {
      try {
        return Long.parseLong(s.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + s + "' is not an integer");
      }
    }
    if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
      return n.longValue();
    }
    throw new IllegalArgumentException(
        value == null
            ? "NULL is not an integer"
            : value + " (" + value.getClass().getSimpleName() + ") is not an integer");
  }

  /**
   * The value as an integer of any size (BIGINT UNSIGNED keys reach 2^64 - 1), for integral numbers
   * and integer strings; otherwise an error.
   */
  public static BigInteger toBigInteger(Object value) {
    if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte) {
      return BigInteger.valueOf(((Number) value).longValue());
    }
    if (value instanceof BigInteger b) {
      return b;
    }
    BigDecimal d =
        value instanceof BigDecimal x
            ? x
            : value instanceof io.vertx.sqlclient.data.Numeric n ? n.bigDecimalValue() : null;
    if (d != null) {
      try {
        return d.toBigIntegerExact();
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(d.toPlainString() + " is not an integer");
      }
    }
    if (value instanceof String s) {
      try {
        return new BigInteger(s.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + s + "' is not an integer");
      }
    }
    return BigInteger.valueOf(toLong(value));
  }

  /** Whether {@link #toLong} holds the value exactly (a fast path before BigInteger). */
  public static boolean isLong(Object value) {
    return value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte;
  }

  /**
   * The canonical text of a value, hashed by {@code hash-mod}: integral numbers in decimal without
   * leading zeros or fraction ({@code 42}), other numbers as plain decimals, strings as they are,
   * dates and times in ISO-8601 ({@code 2024-01-31}, {@code 2024-01-31T10:15:30}).
   */
  public static String canonical(Object value) {
    if (value == null) {
      throw new IllegalArgumentException("NULL has no shard");
    }
    if (value instanceof BigDecimal d) {
      BigDecimal stripped = d.stripTrailingZeros();
      return stripped.scale() <= 0 ? stripped.toBigInteger().toString() : stripped.toPlainString();
    }
    if (value instanceof Double || value instanceof Float) {
      return canonical(BigDecimal.valueOf(((Number) value).doubleValue()));
    }
    return value.toString();
  }

  /**
   * CRC-32 (ISO-HDLC, as {@code java.util.zip.CRC32} and MySQL's {@code CRC32()}) of the UTF-8
   * text.
   */
  public static long crc32(String text) {
    CRC32 crc = new CRC32();
    crc.update(text.getBytes(StandardCharsets.UTF_8));
    return crc.getValue();
  }

  /** A date or date-time value as a LocalDateTime (strings in ISO-8601 are accepted). */
  public static LocalDateTime toDateTime(Object value) {
    if (value instanceof LocalDateTime t) {
      return t;
    }
    if (value instanceof LocalDate d) {
      return d.atStartOfDay();
    }
    if (value instanceof java.time.OffsetDateTime t) {
      return t.toLocalDateTime();
    }
    if (value instanceof String s) {
      String text = s.strip().replace(' ', 'T');
      try {
        return text.length() <= 10
            ? LocalDate.parse(text).atStartOfDay()
            : LocalDateTime.parse(text);
      } catch (java.time.format.DateTimeParseException e) {
        throw new IllegalArgumentException("'" + s + "' is not a date or datetime");
      }
    }
    if (value instanceof Temporal) {
      throw new IllegalArgumentException(value + " is not a date or datetime");
    }
    throw new IllegalArgumentException(value + " is not a date or datetime");
  }
}
