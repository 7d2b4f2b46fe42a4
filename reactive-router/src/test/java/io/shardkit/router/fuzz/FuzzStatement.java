package io.shardkit.router.fuzz;

import java.util.ArrayList;
import java.util.List;

/**
 * A generated statement: a query or a write, sent as a prepared statement (values marked as
 * parameters become {@code ?}) or as text. {@code paramDelta} sends one parameter too few (-1) or
 * too many (+1), which one database rejects.
 */
record FuzzStatement(SelectSpec select, DmlSpec dml, boolean prepared, int paramDelta) {

  static FuzzStatement query(SelectSpec select, boolean prepared) {
    return new FuzzStatement(select, null, prepared, 0);
  }

  static FuzzStatement write(DmlSpec dml, boolean prepared) {
    return new FuzzStatement(null, dml, prepared, 0);
  }

  /** The same statement with a wrong number of parameters. */
  FuzzStatement withParamDelta(int delta) {
    return new FuzzStatement(select, dml, prepared, delta);
  }

  FuzzStatement with(SelectSpec s) {
    return new FuzzStatement(s, null, prepared, paramDelta);
  }

  FuzzStatement with(DmlSpec d) {
    return new FuzzStatement(null, d, prepared, paramDelta);
  }

  boolean isQuery() {
    return select != null;
  }

  private SqlWriter written() {
    return written(false);
  }

  private SqlWriter written(boolean ignoreIndexes) {
    SqlWriter w = new SqlWriter(prepared, ignoreIndexes);
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

  /**
   * The query's text with {@code IGNORE INDEX (k)} on every table it reads by name (its parameters
   * are {@link #params()}): one database's answer under a plan without index lookups.
   */
  String sqlIgnoringIndexes() {
    return written(true).sql();
  }

  List<Object> params() {
    List<Object> params = new ArrayList<>(written().params());
    if (paramDelta < 0 && !params.isEmpty()) {
      params.remove(params.size() - 1);
    } else if (paramDelta > 0) {
      params.add(7L);
    }
    return params;
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
    String wrongCount =
        paramDelta == 0 ? "" : paramDelta > 0 ? " (one too many)" : " (one too few)";
    return sql()
        + (prepared
            ? "  -- prepared, params " + render(params) + wrongCount
            : "  -- text protocol");
  }

  private static String render(List<Object> params) {
    List<String> out = new ArrayList<>();
    for (Object p : params) {
      out.add(p == null ? "null" : SqlText.literal(p) + " (" + p.getClass().getSimpleName() + ")");
    }
    return out.toString();
  }
}
