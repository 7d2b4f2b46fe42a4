package io.shardkit.router.impl.parse;

import io.vertx.sqlclient.Tuple;

/**
 * A value in the SQL text known at plan time: a literal, or the position of a {@code ?} parameter
 * resolved per execution.
 *
 * @param param the 0-based parameter index, or -1 for a literal
 * @param literal the literal value when {@code param < 0}
 * @param text the value as SQL text (for literals) or "?"
 */
public record ValueRef(int param, Object literal, String text) {

  public static ValueRef param(int index) {
    return new ValueRef(index, null, "?");
  }

  public static ValueRef literal(Object value, String text) {
    return new ValueRef(-1, value, text);
  }

  /** An integer literal's value: a Long when it fits, else a BigDecimal (never an overflow). */
  public static Object integer(String text) {
    java.math.BigInteger v = new java.math.BigInteger(text.strip());
    return v.bitLength() <= 63 ? (Object) v.longValue() : new java.math.BigDecimal(v);
  }

  public boolean isParam() {
    return param >= 0;
  }

  /** The value for one execution. */
  public Object resolve(Tuple params) {
    if (param < 0) {
      return literal;
    }
    if (params == null || param >= params.size()) {
      throw new IllegalArgumentException(
          "parameter "
              + (param + 1)
              + " is missing ("
              + (params == null ? 0 : params.size())
              + " given)");
    }
    return params.getValue(param);
  }
}
