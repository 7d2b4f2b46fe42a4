package io.shardkit.router.fuzz;

import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/** SQL literals and parameter values for generated values. */
final class SqlText {

  private static final DateTimeFormatter DATETIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private SqlText() {}

  /** The SQL literal of a Java value; a string is quoted and escaped. */
  static String literal(Object value) {
    if (value == null) {
      return "NULL";
    }
    if (value instanceof String s) {
      return quote(s);
    }
    if (value instanceof BigDecimal d) {
      return d.toPlainString();
    }
    if (value instanceof Double d) {
      return d.toString().replace("E", "e");
    }
    if (value instanceof LocalDateTime t) {
      return "'" + DATETIME.format(t) + "'";
    }
    if (value instanceof LocalDate d) {
      return "'" + d + "'";
    }
    return value.toString();
  }

  static String quote(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
  }

  /** The value as a Vert.x tuple element (unsigned 64-bit numbers as {@link Numeric}). */
  static Object parameter(Object value) {
    if (value instanceof BigInteger b) {
      return Numeric.create(b);
    }
    return value;
  }

  static String identifier(String name) {
    return "`" + name + "`";
  }
}
