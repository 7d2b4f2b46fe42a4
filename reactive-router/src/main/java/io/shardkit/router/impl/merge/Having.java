package io.shardkit.router.impl.merge;

import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.List;

/**
 * A HAVING condition compiled for evaluation on merged group rows, with SQL's three-valued logic (a
 * comparison with NULL is unknown; only TRUE keeps the group). Supported: AND, OR, NOT,
 * comparisons, IS [NOT] NULL, [NOT] BETWEEN, [NOT] IN (values), + - * /, literals, parameters and
 * references to result or derived columns (aggregates, group keys).
 */
public sealed interface Having {

  /** The value for one merged row (all columns, derived included) of the given visible width. */
  Object eval(Object[] row, int visible, Tuple params);

  /** Whether the row passes: the condition is TRUE. */
  default boolean test(Object[] row, int visible, Tuple params) {
    return Boolean.TRUE.equals(eval(row, visible, params));
  }

  /** A column of the merged row. */
  record Ref(MergeSpec.ColumnRef column) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object v = row[column.resolve(visible)];
      return v instanceof io.vertx.sqlclient.data.Numeric n ? n.bigDecimalValue() : v;
    }
  }

  /** A literal. */
  record Literal(Object value) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      return value;
    }
  }

  /** A {@code ?} parameter (0-based). */
  record Param(int index) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      return params.getValue(index);
    }
  }

  /** AND / OR with NULL as unknown. */
  record Logic(boolean and, Having left, Having right) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object l = left.eval(row, visible, params);
      Object r = right.eval(row, visible, params);
      Boolean a = truth(l);
      Boolean b = truth(r);
      if (and) {
        if (Boolean.FALSE.equals(a) || Boolean.FALSE.equals(b)) {
          return false;
        }
        return a == null || b == null ? null : true;
      }
      if (Boolean.TRUE.equals(a) || Boolean.TRUE.equals(b)) {
        return true;
      }
      return a == null || b == null ? null : false;
    }
  }

  /** NOT. */
  record Not(Having inner) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Boolean b = truth(inner.eval(row, visible, params));
      return b == null ? null : !b;
    }
  }

  /** A comparison: = <> < <= > >=. */
  record Compare(String op, Having left, Having right) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object l = left.eval(row, visible, params);
      Object r = right.eval(row, visible, params);
      if (l == null || r == null) {
        return null;
      }
      int c = Values.compare(l, r);
      return switch (op) {
        case "=" -> c == 0;
        case "<>", "!=" -> c != 0;
        case "<" -> c < 0;
        case "<=" -> c <= 0;
        case ">" -> c > 0;
        default -> c >= 0;
      };
    }
  }

  /** IS [NOT] NULL. */
  record IsNull(Having inner, boolean not) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      return (inner.eval(row, visible, params) == null) != not;
    }
  }

  /** [NOT] IN (values). */
  record In(Having left, List<Having> values, boolean not) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object l = left.eval(row, visible, params);
      if (l == null) {
        return null;
      }
      boolean unknown = false;
      for (Having h : values) {
        Object v = h.eval(row, visible, params);
        if (v == null) {
          unknown = true;
        } else if (Values.compare(l, v) == 0) {
          return !not;
        }
      }
      return unknown ? null : not;
    }
  }

  /** + - * / on numbers (division by zero is NULL, as in MySQL). */
  record Arithmetic(char op, Having left, Having right) implements Having {
    @Override
    public Object eval(Object[] row, int visible, Tuple params) {
      Object l = left.eval(row, visible, params);
      Object r = right.eval(row, visible, params);
      if (l == null || r == null) {
        return null;
      }
      BigDecimal a = Values.toBigDecimal(l);
      BigDecimal b = Values.toBigDecimal(r);
      return switch (op) {
        case '+' -> a.add(b);
        case '-' -> a.subtract(b);
        case '*' -> a.multiply(b);
        default -> b.signum() == 0 ? null : a.divide(b, MathContext.DECIMAL64);
      };
    }
  }

  private static Boolean truth(Object v) {
    if (v == null) {
      return null;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (Values.isNumber(v)) {
      return Values.toBigDecimal(v).signum() != 0;
    }
    return false;
  }
}
