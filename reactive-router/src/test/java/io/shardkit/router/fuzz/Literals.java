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

  Literals(Random random) {
    this.random = random;
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
    return v;
  }

  /** A value that can be written into the column without an error (no odd forms). */
  Object storableFor(FuzzTable table, FuzzColumn column) {
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
