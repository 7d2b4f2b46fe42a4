package io.shardkit.router.fuzz;

import java.util.ArrayList;
import java.util.List;

/**
 * A generated statement: a query or a write, sent as a prepared statement (values marked as
 * parameters become {@code ?}) or as text.
 */
record FuzzStatement(SelectSpec select, DmlSpec dml, boolean prepared) {

  static FuzzStatement query(SelectSpec select, boolean prepared) {
    return new FuzzStatement(select, null, prepared);
  }

  static FuzzStatement write(DmlSpec dml, boolean prepared) {
    return new FuzzStatement(null, dml, prepared);
  }

  boolean isQuery() {
    return select != null;
  }

  private SqlWriter written() {
    SqlWriter w = new SqlWriter(prepared);
    if (select != null) {
      select.render(w);
    } else {
      dml.sql(w);
    }
    return w;
  }

  String sql() {
    return written().sql();
  }

  List<Object> params() {
    return written().params();
  }

  /** The tables the statement reads or writes. */
  List<FuzzTable> tables() {
    List<FuzzTable> out = new ArrayList<>();
    if (dml != null) {
      out.add(dml.table());
      return out;
    }
    for (SelectSpec s = select; s != null; s = s.union()) {
      add(out, s.from().table());
      if (s.from().joined() != null) {
        add(out, s.from().joined());
      }
      addSubqueryTables(out, s.where());
    }
    return out;
  }

  private static void addSubqueryTables(List<FuzzTable> out, Pred p) {
    if (p instanceof Pred.InSelect in) {
      add(out, in.subquery().from().table());
    } else if (p instanceof Pred.Junction j) {
      j.parts().forEach(x -> addSubqueryTables(out, x));
    } else if (p instanceof Pred.Not n) {
      addSubqueryTables(out, n.inner());
    }
  }

  private static void add(List<FuzzTable> out, FuzzTable t) {
    if (!out.contains(t)) {
      out.add(t);
    }
  }

  /** The statement with its parameter values, for reports. */
  String describe() {
    List<Object> params = params();
    return sql() + (prepared ? "  -- prepared, params " + render(params) : "  -- text protocol");
  }

  private static String render(List<Object> params) {
    List<String> out = new ArrayList<>();
    for (Object p : params) {
      out.add(p == null ? "null" : SqlText.literal(p) + " (" + p.getClass().getSimpleName() + ")");
    }
    return out.toString();
  }
}
