package io.shardkit.router.impl.route;

import io.shardkit.router.impl.parse.ValueRef;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A statement's SQL cut into pieces once at plan time: text, sharded-table slots, {@code ?}
 * parameters, prunable IN lists and the LIMIT clause. Rendering one route unit is a single pass
 * appending strings, which is what keeps route + rewrite of a cached statement within budget.
 */
public final class SqlTemplate {

  static final String TABLE_MARK = "__sk_t";
  static final String QUOTED_TABLE_MARK = "__sk_q";
  static final String IN_MARK = "__sk_in";
  static final String LIMIT_MARK = "__sk_limit__";

  /** How the LIMIT slot is rendered. */
  public enum LimitMode {
    /** As written. */
    ORIGINAL,
    /** {@code LIMIT offset + count} (the merge skips the offset). */
    WIDENED
  }

  /** The most rendered texts a template keeps (one per set of actual tables it was routed to). */
  static final int RENDERED_KEPT = 64;

  private final Object[] segments;
  private final boolean hasParams;

  /**
   * Whether the text depends on the actual tables only (no IN list, no LIMIT slot): its renderings
   * are kept and the same String handed out again, so the shard's prepared-statement cache finds it
   * by identity with its hash already computed, as for a constant statement sent directly.
   */
  private final boolean textByTables;

  /** Renderings of a {@link #textByTables} template, copied on write; at most RENDERED_KEPT. */
  private volatile Rendered[] rendered = new Rendered[0];

  private record Rendered(String[] tables, String sql) {}

  /**
   * The number of parameters when a rendering sends the statement's parameters exactly as given
   * (text by tables only, placeholders 1..n in order), else -1.
   */
  private final int paramsInOrder;

  private SqlTemplate(Object[] segments) {
    this.segments = segments;
    boolean params = false;
    boolean byTables = true;
    boolean inOrder = true;
    int next = 0;
    for (Object s : segments) {
      params |= s instanceof Param || s instanceof InList || s instanceof Limit;
      byTables &= !(s instanceof InList || s instanceof Limit);
      if (s instanceof Param p) {
        inOrder &= p.index == next++;
      }
    }
    this.hasParams = params;
    this.textByTables = byTables;
    this.paramsInOrder = byTables && inOrder ? next : -1;
  }

  /**
   * Whether a unit of this template sends exactly {@code params}, in order: its tuple can be the
   * statement's own (render it with {@code params} null).
   */
  public boolean sendsAsGiven(Tuple params) {
    return params != null && paramsInOrder >= 0 && params.size() == paramsInOrder;
  }

  record Table(int slot, boolean quoted) {}

  record Param(int index) {}

  record InList(int slot) {}

  record Limit() {}

  /**
   * Compiles deparsed SQL containing markers: {@code __sk_t<slot>__} / {@code __sk_q<slot>__}
   * (table slots), {@code ?<n>} (parameter n, 1-based), {@code __sk_in<slot>__} (IN list) and
   * {@code __sk_limit__}. Markers inside quoted strings or identifiers are left as text.
   */
  public static SqlTemplate compile(String sql) {
    List<Object> out = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    int i = 0;
    int n = sql.length();
    while (i < n) {
      char c = sql.charAt(i);
      if (c == '\'' || c == '"' || c == '`') {
        int end = skipQuoted(sql, i);
        text.append(sql, i, end);
        i = end;
      } else if (c == '?' && i + 1 < n && Character.isDigit(sql.charAt(i + 1))) {
        int j = i + 1;
        while (j < n && Character.isDigit(sql.charAt(j))) {
          j++;
        }
        flush(text, out);
        out.add(new Param(Integer.parseInt(sql.substring(i + 1, j)) - 1));
        i = j;
      } else if (c == '_' && sql.startsWith("__sk_", i)) {
        int end = sql.indexOf("__", i + 5);
        if (end < 0) {
          text.append(c);
          i++;
          continue;
        }
        String marker = sql.substring(i, end + 2);
        flush(text, out);
        if (marker.equals(LIMIT_MARK)) {
          out.add(new Limit());
        } else if (marker.startsWith(IN_MARK)) {
          out.add(
              new InList(
                  Integer.parseInt(marker.substring(IN_MARK.length(), marker.length() - 2))));
        } else if (marker.startsWith(TABLE_MARK)) {
          out.add(
              new Table(
                  Integer.parseInt(marker.substring(TABLE_MARK.length(), marker.length() - 2)),
                  false));
        } else if (marker.startsWith(QUOTED_TABLE_MARK)) {
          out.add(
              new Table(
                  Integer.parseInt(
                      marker.substring(QUOTED_TABLE_MARK.length(), marker.length() - 2)),
                  true));
        } else {
          throw new IllegalStateException("unknown marker " + marker);
        }
        i = end + 2;
      } else {
        text.append(c);
        i++;
      }
    }
    flush(text, out);
    return new SqlTemplate(out.toArray());
  }

  /** Builds a template from already cut segments (used for INSERT rows). */
  static SqlTemplate of(List<Object> segments) {
    return new SqlTemplate(segments.toArray());
  }

  private static void flush(StringBuilder text, List<Object> out) {
    if (text.length() > 0) {
      out.add(text.toString());
      text.setLength(0);
    }
  }

  private static int skipQuoted(String sql, int start) {
    char quote = sql.charAt(start);
    int i = start + 1;
    while (i < sql.length()) {
      char c = sql.charAt(i);
      if (c == '\\' && quote != '`') {
        i += 2;
      } else if (c == quote) {
        if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
          i += 2;
        } else {
          return i + 1;
        }
      } else {
        i++;
      }
    }
    return sql.length();
  }

  /** Whether rendering reads parameters. */
  public boolean hasParams() {
    return hasParams;
  }

  /**
   * Renders the SQL of one unit and collects its parameters in order.
   *
   * @param unit the route unit (actual table per slot)
   * @param params the statement's parameters, or null for a text query
   * @param inLists per IN slot, the items kept for this unit (null: all)
   * @param inItems per IN slot, all items
   * @param limit the LIMIT clause values [offset or null, count] or null
   * @param limitMode how to render the LIMIT slot
   * @param outParams receives the unit's parameters
   */
  public String render(
      RouteUnit unit,
      Tuple params,
      int[][] inLists,
      List<List<ValueRef>> inItems,
      ValueRef[] limit,
      LimitMode limitMode,
      List<Object> outParams) {
    if (textByTables) {
      return renderByTables(unit.actualTables(), params, outParams);
    }
    return renderText(unit.actualTables(), params, inLists, inItems, limit, limitMode, outParams);
  }

  private String renderByTables(String[] tables, Tuple params, List<Object> outParams) {
    if (params != null) {
      for (Object segment : segments) {
        if (segment instanceof Param p) {
          outParams.add(params.getValue(p.index));
        }
      }
    }
    Rendered[] kept = rendered;
    for (Rendered r : kept) {
      if (Arrays.equals(r.tables, tables)) {
        return r.sql;
      }
    }
    String sql = renderText(tables, null, null, null, null, null, null);
    if (kept.length < RENDERED_KEPT) {
      Rendered[] more = Arrays.copyOf(kept, kept.length + 1);
      more[kept.length] = new Rendered(tables.clone(), sql);
      rendered = more; // a racing rendering of other tables may be lost: it is rendered again
    }
    return sql;
  }

  private String renderText(
      String[] tables,
      Tuple params,
      int[][] inLists,
      List<List<ValueRef>> inItems,
      ValueRef[] limit,
      LimitMode limitMode,
      List<Object> outParams) {
    StringBuilder sb = new StringBuilder(128);
    for (Object segment : segments) {
      if (segment instanceof String s) {
        sb.append(s);
      } else if (segment instanceof Table t) {
        String actual = tables[t.slot];
        if (t.quoted) {
          sb.append('`').append(actual).append('`');
        } else {
          sb.append(actual);
        }
      } else if (segment instanceof Param p) {
        sb.append('?');
        if (params != null) {
          outParams.add(params.getValue(p.index));
        }
      } else if (segment instanceof InList in) {
        List<ValueRef> items = inItems.get(in.slot);
        int[] kept = inLists == null ? null : inLists[in.slot];
        if (kept == null) {
          for (int k = 0; k < items.size(); k++) {
            appendValue(sb, items.get(k), params, outParams, k > 0);
          }
        } else {
          for (int k = 0; k < kept.length; k++) {
            appendValue(sb, items.get(kept[k]), params, outParams, k > 0);
          }
        }
      } else if (segment instanceof Limit) {
        renderLimit(sb, limit, limitMode, params, outParams);
      }
    }
    return sb.toString();
  }

  private static void appendValue(
      StringBuilder sb, ValueRef value, Tuple params, List<Object> outParams, boolean comma) {
    if (comma) {
      sb.append(", ");
    }
    if (value.isParam()) {
      sb.append('?');
      if (params != null) {
        outParams.add(params.getValue(value.param()));
      }
    } else {
      sb.append(value.text());
    }
  }

  private static void renderLimit(
      StringBuilder sb, ValueRef[] limit, LimitMode mode, Tuple params, List<Object> outParams) {
    ValueRef offset = limit[0];
    ValueRef count = limit[1];
    if (mode == LimitMode.ORIGINAL) {
      if (offset != null) {
        appendValue(sb, offset, params, outParams, false);
        sb.append(", ");
      }
      appendValue(sb, count, params, outParams, false);
      return;
    }
    long widened =
        saturatedAdd(
            toLong(count.resolve(params)), offset == null ? 0 : toLong(offset.resolve(params)));
    if (widened == Long.MAX_VALUE) {
      // "to the end": MySQL's own spelling of the largest row count
      sb.append(MAX_ROWS);
    } else if ((count.isParam() || offset != null && offset.isParam()) && params != null) {
      sb.append('?');
      outParams.add(widened);
    } else {
      sb.append(widened);
    }
  }

  /** The largest LIMIT MySQL accepts: 2^64 - 1. */
  static final String MAX_ROWS = "18446744073709551615";

  private static final java.math.BigInteger MAX_UNSIGNED =
      java.math.BigInteger.ONE.shiftLeft(64).subtract(java.math.BigInteger.ONE);

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }

  /**
   * A LIMIT/OFFSET value as MySQL reads it: an unsigned 64-bit integer. Values from 2^63 on
   * saturate at {@link Long#MAX_VALUE} (no result has that many rows, so the merge is the same).
   * Anything else (negative, fractional, beyond 2^64 - 1, not a number) is refused before any I/O.
   */
  public static long toLong(Object value) {
    java.math.BigInteger v = null;
    try {
      if (value instanceof Long
          || value instanceof Integer
          || value instanceof Short
          || value instanceof Byte) {
        v = java.math.BigInteger.valueOf(((Number) value).longValue());
      } else if (value instanceof java.math.BigInteger b) {
        v = b;
      } else if (value instanceof java.math.BigDecimal d) {
        v = d.toBigIntegerExact();
      } else if (value instanceof io.vertx.sqlclient.data.Numeric n
          && n.bigDecimalValue() != null) {
        v = n.bigDecimalValue().toBigIntegerExact();
      } else if (value instanceof String s) {
        v = new java.math.BigInteger(s.strip());
      }
    } catch (ArithmeticException | NumberFormatException e) {
      v = null;
    }
    if (v == null || v.signum() < 0 || v.compareTo(MAX_UNSIGNED) > 0) {
      throw new io.shardkit.router.UnsupportedSqlException(
          List.of(),
          "LIMIT/OFFSET value "
              + (value instanceof String ? "'" + value + "'" : String.valueOf(value))
              + " is not a row count: MySQL takes integers from 0 to "
              + MAX_ROWS);
    }
    return v.bitLength() > 63 ? Long.MAX_VALUE : v.longValue();
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (Object s : segments) {
      sb.append(s instanceof String str ? str : "{" + s + "}");
    }
    return sb.toString();
  }
}
