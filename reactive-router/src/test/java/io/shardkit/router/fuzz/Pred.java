package io.shardkit.router.fuzz;

import java.util.ArrayList;
import java.util.List;

/** A generated WHERE / HAVING / ON condition. */
sealed interface Pred {

  void render(SqlWriter w);

  /**
   * Simpler conditions to try while shrinking (a child in place of AND/OR/NOT, fewer IN values).
   */
  default List<Pred> simpler() {
    return List.of();
  }

  /** {@code left op right} with =, <>, <, <=, >, >=, <=>. */
  record Compare(Expr left, String op, Expr right) implements Pred {
    @Override
    public void render(SqlWriter w) {
      left.render(w);
      w.append(" ").append(op).append(" ");
      right.render(w);
    }
  }

  /** {@code e [NOT] IN (v1, v2, ...)}. */
  record In(Expr e, List<Expr> values, boolean not) implements Pred {
    @Override
    public void render(SqlWriter w) {
      e.render(w);
      w.append(not ? " NOT IN (" : " IN (");
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) {
          w.append(", ");
        }
        values.get(i).render(w);
      }
      w.append(")");
    }

    @Override
    public List<Pred> simpler() {
      List<Pred> out = new ArrayList<>();
      for (int i = 0; values.size() > 1 && i < values.size(); i++) {
        List<Expr> fewer = new ArrayList<>(values);
        fewer.remove(i);
        out.add(new In(e, fewer, not));
      }
      return out;
    }
  }

  /** {@code e [NOT] BETWEEN low AND high}. */
  record Between(Expr e, Expr low, Expr high, boolean not) implements Pred {
    @Override
    public void render(SqlWriter w) {
      e.render(w);
      w.append(not ? " NOT BETWEEN " : " BETWEEN ");
      low.render(w);
      w.append(" AND ");
      high.render(w);
    }
  }

  /** {@code e [NOT] LIKE pattern}. */
  record Like(Expr e, Expr pattern, boolean not) implements Pred {
    @Override
    public void render(SqlWriter w) {
      e.render(w);
      w.append(not ? " NOT LIKE " : " LIKE ");
      pattern.render(w);
    }
  }

  /** {@code e IS [NOT] NULL}. */
  record IsNull(Expr e, boolean not) implements Pred {
    @Override
    public void render(SqlWriter w) {
      e.render(w);
      w.append(not ? " IS NOT NULL" : " IS NULL");
    }
  }

  /** {@code e [NOT] IN (subquery)}. */
  record InSelect(Expr e, SelectSpec subquery, boolean not) implements Pred {
    @Override
    public void render(SqlWriter w) {
      e.render(w);
      w.append(not ? " NOT IN (" : " IN (");
      subquery.render(w);
      w.append(")");
    }
  }

  /** AND or OR of two or more conditions. */
  record Junction(String op, List<Pred> parts) implements Pred {
    @Override
    public void render(SqlWriter w) {
      w.append("(");
      for (int i = 0; i < parts.size(); i++) {
        if (i > 0) {
          w.append(" ").append(op).append(" ");
        }
        parts.get(i).render(w);
      }
      w.append(")");
    }

    @Override
    public List<Pred> simpler() {
      List<Pred> out = new ArrayList<>(parts);
      for (int i = 0; i < parts.size(); i++) {
        for (Pred s : parts.get(i).simpler()) {
          List<Pred> copy = new ArrayList<>(parts);
          copy.set(i, s);
          out.add(new Junction(op, copy));
        }
      }
      return out;
    }
  }

  /** NOT (p). */
  record Not(Pred inner) implements Pred {
    @Override
    public void render(SqlWriter w) {
      w.append("NOT (");
      inner.render(w);
      w.append(")");
    }

    @Override
    public List<Pred> simpler() {
      List<Pred> out = new ArrayList<>();
      out.add(inner);
      inner.simpler().forEach(s -> out.add(new Not(s)));
      return out;
    }
  }
}
