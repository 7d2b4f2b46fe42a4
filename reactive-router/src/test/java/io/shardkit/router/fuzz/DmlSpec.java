package io.shardkit.router.fuzz;

import java.util.ArrayList;
import java.util.List;

/**
 * A generated INSERT (several rows, all columns listed), UPDATE (SET some columns WHERE ...) or
 * DELETE (WHERE ...), the last two maybe with {@code ORDER BY id LIMIT n} ({@code limit} not null;
 * ids are unique, so the rows it reaches are one database's).
 */
record DmlSpec(
    Kind kind,
    FuzzTable table,
    List<List<Expr>> rows,
    List<Assignment> sets,
    Pred where,
    Long limit) {

  DmlSpec(Kind kind, FuzzTable table, List<List<Expr>> rows, List<Assignment> sets, Pred where) {
    this(kind, table, rows, sets, where, null);
  }

  enum Kind {
    INSERT,
    UPDATE,
    DELETE
  }

  record Assignment(FuzzColumn column, Expr value) {}

  String sql(SqlWriter w) {
    switch (kind) {
      case INSERT -> {
        w.append("INSERT INTO ")
            .append(table.name())
            .append(" (" + table.columnList() + ") VALUES ");
        for (int r = 0; r < rows.size(); r++) {
          w.append(r == 0 ? "(" : ", (");
          for (int c = 0; c < rows.get(r).size(); c++) {
            if (c > 0) {
              w.append(", ");
            }
            rows.get(r).get(c).render(w);
          }
          w.append(")");
        }
      }
      case UPDATE -> {
        w.append("UPDATE ").append(table.name()).append(" SET ");
        for (int i = 0; i < sets.size(); i++) {
          w.append(i == 0 ? "" : ", ").append(sets.get(i).column().name()).append(" = ");
          sets.get(i).value().render(w);
        }
        renderWhere(w);
      }
      case DELETE -> {
        w.append("DELETE FROM ").append(table.name());
        renderWhere(w);
      }
    }
    return w.sql();
  }

  private void renderWhere(SqlWriter w) {
    if (where != null) {
      w.append(" WHERE ");
      where.render(w);
    }
    if (limit != null) {
      w.append(" ORDER BY id LIMIT " + limit);
    }
  }

  /** Smaller statements for shrinking: fewer rows or assignments, simpler WHERE. */
  List<DmlSpec> simpler() {
    List<DmlSpec> out = new ArrayList<>();
    for (int i = 0; rows.size() > 1 && i < rows.size(); i++) {
      List<List<Expr>> fewer = new ArrayList<>(rows);
      fewer.remove(i);
      out.add(new DmlSpec(kind, table, fewer, sets, where, limit));
    }
    for (int i = 0; sets.size() > 1 && i < sets.size(); i++) {
      List<Assignment> fewer = new ArrayList<>(sets);
      fewer.remove(i);
      out.add(new DmlSpec(kind, table, rows, fewer, where, limit));
    }
    if (where != null) {
      where.simpler().forEach(p -> out.add(new DmlSpec(kind, table, rows, sets, p, limit)));
    }
    if (limit != null) {
      out.add(new DmlSpec(kind, table, rows, sets, where, null));
    }
    return out;
  }
}
