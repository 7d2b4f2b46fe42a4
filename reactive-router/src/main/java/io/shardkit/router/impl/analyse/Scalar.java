package io.shardkit.router.impl.analyse;

import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.util.List;
import java.util.Set;

/**
 * An expression over merged aggregates ({@code SUM(a) / COUNT(*)}, {@code ROUND(AVG(x), 2)}, {@code
 * CONCAT('n=', COUNT(*))}), evaluated on the merged row with the server's semantics (see {@link
 * SqlNumber}): integers stay integers, DECIMAL arithmetic is exact with the server's result scale,
 * a DOUBLE operand makes the result a double, NULL propagates, division by zero is NULL.
 */
public sealed interface Scalar {

  /** Functions whose result is a number whatever their arguments. */
  Set<String> NUMERIC_FUNCTIONS =
      Set.of("ROUND", "TRUNCATE", "ABS", "CEIL", "CEILING", "FLOOR", "MOD");

  /** Functions the merge evaluates (anything else around an aggregate is refused by name). */
  Set<String> FUNCTIONS =
      Set.of(
          "ROUND",
          "TRUNCATE",
          "ABS",
          "CEIL",
          "CEILING",
          "FLOOR",
          "MOD",
          "COALESCE",
          "IFNULL",
          "CONCAT");

  /** The value on a merged row: null, Long, {@link SqlNumber.Dec}, Double or String. */
  Object value(Object[] row, int visible, Tuple params);

  /** The value as the client sees it: a DECIMAL at its result scale. */
  default Object eval(Object[] row, int visible, Tuple params) {
    Object v = value(row, visible, params);
    return v instanceof SqlNumber.Dec d ? io.vertx.sqlclient.data.Numeric.create(d.shown()) : v;
  }

  /**
   * The value in the type the units returned for the whole expression ({@code sample}, the first
   * unit's own value, may be null): the server derives that type from the expression alone, so a
   * DECIMAL takes the units' scale (COALESCE(AVG(d), 1.5) shows 1.5000000 even when AVG is NULL),
   * an integer or double result keeps its kind, and text returned as bytes stays bytes.
   */
  static Object like(Object v, Object sample) {
    if (v == null) {
      return null;
    }
    if (sample instanceof io.vertx.sqlclient.data.Numeric n && !(v instanceof String)) {
      BigDecimal d = v instanceof SqlNumber.Dec dec ? dec.value() : Values.toBigDecimal(v);
      int scale = Math.max(0, n.bigDecimalValue().scale());
      return io.vertx.sqlclient.data.Numeric.create(
          d.setScale(scale, java.math.RoundingMode.HALF_UP));
    }
    if (sample instanceof Double && !(v instanceof String)) {
      return SqlNumber.real(v);
    }
    if (sample instanceof io.vertx.core.buffer.Buffer) {
      return io.vertx.core.buffer.Buffer.buffer(
          v instanceof String s ? s : SqlFunctions.text(v), "UTF-8");
    }
    if (sample instanceof String && !(v instanceof String)) {
      return SqlFunctions.text(v);
    }
    return v instanceof SqlNumber.Dec d ? io.vertx.sqlclient.data.Numeric.create(d.shown()) : v;
  }

  /** A merged column (an aggregate or a group key). */
  record Ref(MergeSpec.ColumnRef column) implements Scalar {
    @Override
    public Object value(Object[] row, int visible, Tuple params) {
      return SqlNumber.read(row[column.resolve(visible)]);
    }
  }

  /** A literal: Long, {@link SqlNumber.Dec}, Double, String or null. */
  record Literal(Object value) implements Scalar {
    @Override
    public Object value(Object[] row, int visible, Tuple params) {
      return value;
    }
  }

  /** {@code + - * / DIV %} with the server's types and NULL rules. */
  record Binary(String op, Scalar left, Scalar right) implements Scalar {
    @Override
    public Object value(Object[] row, int visible, Tuple params) {
      Object l = left.value(row, visible, params);
      Object r = right.value(row, visible, params);
      return l == null || r == null ? null : SqlNumber.arithmetic(op, l, r);
    }
  }

  /** A {@code ?} parameter (0-based), typed as the server types the bound value. */
  record Param(int index) implements Scalar {
    @Override
    public Object value(Object[] row, int visible, Tuple params) {
      return SqlNumber.read(params == null ? null : params.getValue(index));
    }
  }

  /** A function of {@link #FUNCTIONS}. */
  record Call(String name, List<Scalar> args) implements Scalar {
    @Override
    public Object value(Object[] row, int visible, Tuple params) {
      Object[] values = new Object[args.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = args.get(i).value(row, visible, params);
      }
      return SqlFunctions.call(name, values);
    }
  }

  /** A decimal literal as the server reads {@code 1.50}: DECIMAL with the written scale. */
  static Scalar decimal(String text) {
    return new Literal(new SqlNumber.Dec(new BigDecimal(text)));
  }
}
