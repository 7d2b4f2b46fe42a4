package io.shardkit.router.fuzz;

import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;

/** SQL literals and parameter values for generated values. */
final class SqlText {

  private static final DateTimeFormatter DATETIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private SqlText() {}

  /**
   * A value written in a form of its own: {@code sql} in a text statement (e.g. {@code b'101'},
   * {@code X'6100'}, {@code '-1 01:00:00'}), {@code parameter} when bound to a {@code ?}.
   */
  record Raw(String sql, Object parameter) {
    @Override
    public String toString() {
      return sql;
    }
  }

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
    if (value instanceof Float f) {
      return f.toString().replace("E", "e");
    }
    if (value instanceof Raw r) {
      return r.sql();
    }
    if (value instanceof Buffer b) {
      return "X'" + HexFormat.of().formatHex(b.getBytes()) + "'";
    }
    if (value instanceof Duration d) {
      return "'" + time(d) + "'";
    }
    if (value instanceof LocalDateTime t) {
      return "'" + DATETIME.format(t) + fraction(t.getNano()) + "'";
    }
    if (value instanceof LocalDate d) {
      return "'" + d + "'";
    }
    return value.toString();
  }

  /** {@code [-]H:MM:SS[.ffffff]}, the server's TIME text. */
  static String time(Duration d) {
    boolean negative = d.isNegative();
    Duration a = d.abs();
    long seconds = a.getSeconds();
    return (negative ? "-" : "")
        + String.format("%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
        + fraction(a.getNano());
  }

  private static String fraction(int nanos) {
    if (nanos == 0) {
      return "";
    }
    return String.format(".%06d", nanos / 1000);
  }

  static String quote(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
  }

  /** The value as a Vert.x tuple element (unsigned 64-bit numbers as {@link Numeric}). */
  static Object parameter(Object value) {
    if (value instanceof Raw r) {
      return parameter(r.parameter());
    }
    if (value instanceof BigInteger b) {
      return Numeric.create(b);
    }
    return value;
  }

  static String identifier(String name) {
    return "`" + name + "`";
  }
}
