package io.shardkit.router.fuzz;

import io.shardkit.router.fuzz.SelectSpec.Item;
import io.shardkit.router.fuzz.SelectSpec.Order;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes a failing statement minimal while it still fails with the same mismatch class: first the
 * statement (drop UNION, WHERE parts, HAVING, LIMIT, ORDER BY items, DISTINCT, select items, group
 * keys; fewer INSERT rows), then the data (drop chunks of rows of the tables it reads, halving the
 * chunk size). The tables' rows are put back afterwards; the minimal rows are returned.
 */
final class Shrinker {

  private static final int MAX_STATEMENT_CHECKS = 150;
  private static final int MAX_ROW_LOADS = 40;

  /** A minimal failing statement, its verdict and the rows it needs. */
  record Shrunk(FuzzStatement statement, Verdict verdict, Map<String, List<List<Object>>> rows) {}

  private final FuzzWorld world;
  private final DifferentialCheck check;
  private int checks;

  Shrinker(FuzzWorld world, DifferentialCheck check) {
    this.world = world;
    this.check = check;
  }

  Shrunk shrink(FuzzStatement failing, Verdict verdict) {
    if (verdict.category().equals("router hang")) {
      return new Shrunk(failing, verdict, Map.of()); // every try would cost the whole bound
    }
    checks = 0;
    FuzzStatement current = failing;
    Verdict currentVerdict = verdict;
    boolean progress = true;
    while (progress && checks < MAX_STATEMENT_CHECKS) {
      progress = false;
      for (FuzzStatement candidate : candidates(current)) {
        if (checks++ >= MAX_STATEMENT_CHECKS) {
          break;
        }
        Verdict v = check.check(candidate);
        if (sameFailure(v, verdict)) {
          current = candidate;
          currentVerdict = v;
          progress = true;
          break;
        }
      }
    }
    if (!current.isQuery()) {
      return new Shrunk(current, currentVerdict, snapshot(current));
    }
    return shrinkRows(current, currentVerdict);
  }

  private static boolean sameFailure(Verdict v, Verdict original) {
    return v.isMismatch() && v.category().equals(original.category());
  }

  private Map<String, List<List<Object>>> snapshot(FuzzStatement st) {
    Map<String, List<List<Object>>> out = new LinkedHashMap<>();
    st.tables().forEach(t -> out.put(t.name(), world.referenceRows(t)));
    return out;
  }

  private Shrunk shrinkRows(FuzzStatement st, Verdict verdict) {
    Map<String, List<List<Object>>> baseline = snapshot(st);
    Map<String, List<List<Object>>> minimal = new LinkedHashMap<>(baseline);
    Verdict current = verdict;
    int loads = 0;
    try {
      for (String table : baseline.keySet()) {
        List<List<Object>> rows = new ArrayList<>(baseline.get(table));
        for (int chunk = Math.max(1, rows.size() / 2); chunk >= 1 && loads < MAX_ROW_LOADS; ) {
          boolean removed = false;
          for (int from = 0; from < rows.size() && loads < MAX_ROW_LOADS; from += chunk) {
            List<List<Object>> candidate = new ArrayList<>(rows);
            candidate.subList(from, Math.min(rows.size(), from + chunk)).clear();
            world.load(table, candidate);
            loads++;
            Verdict v = check.check(st);
            if (sameFailure(v, verdict)) {
              rows = candidate;
              current = v;
              removed = true;
              break;
            }
          }
          if (!removed) {
            chunk = chunk == 1 ? 0 : Math.max(1, chunk / 2);
          }
        }
        world.load(table, rows);
        minimal.put(table, rows);
      }
      check.check(st);
    } finally {
      baseline.forEach(world::load);
    }
    return new Shrunk(st, current, minimal);
  }

  private static List<FuzzStatement> candidates(FuzzStatement st) {
    List<FuzzStatement> out = new ArrayList<>();
    if (!st.isQuery()) {
      st.dml().simpler().forEach(d -> out.add(st.with(d)));
      return out;
    }
    for (SelectSpec s : candidates(st.select())) {
      out.add(st.with(s));
    }
    if (st.prepared() && st.paramDelta() == 0) {
      out.add(FuzzStatement.query(st.select(), false));
    }
    return out;
  }

  static List<SelectSpec> candidates(SelectSpec s) {
    List<SelectSpec> out = new ArrayList<>();
    if (s.union() != null) {
      out.add(s.withUnion(null, false));
    }
    if (s.where() != null) {
      out.add(s.withWhere(null));
      s.where().simpler().forEach(p -> out.add(s.withWhere(p)));
    }
    if (s.having() != null) {
      out.add(s.withHaving(null));
      s.having().simpler().forEach(p -> out.add(s.withHaving(p)));
    }
    if (s.limit() != null) {
      out.add(s.withLimit(null));
      if (s.limit().offset() != null) {
        out.add(
            s.withLimit(
                new SelectSpec.Limit(null, s.limit().count(), false, s.limit().parameters())));
      }
    }
    for (int i = 0; i < s.orderBy().size(); i++) {
      List<Order> fewer = new ArrayList<>(s.orderBy());
      fewer.remove(i);
      out.add(s.withOrderBy(fewer));
    }
    if (s.distinct()) {
      out.add(s.withDistinct(false));
    }
    if (!s.star() && s.union() == null) {
      for (int i = 0; s.items().size() > 1 && i < s.items().size(); i++) {
        out.add(withoutItem(s, i));
      }
      for (Expr group : s.groupBy()) {
        out.add(withoutGroup(s, group));
      }
    }
    return out;
  }

  private static SelectSpec withoutItem(SelectSpec s, int index) {
    List<Item> items = new ArrayList<>(s.items());
    Item removed = items.remove(index);
    List<Order> orders = new ArrayList<>();
    for (Order o : s.orderBy()) {
      if (o.item() == index) {
        continue;
      }
      int item = o.item() > index ? o.item() - 1 : o.item();
      orders.add(new Order(item, o.expression(), o.style(), o.collate(), o.descending()));
    }
    List<Expr> groups = new ArrayList<>(s.groupBy());
    if (items.stream().noneMatch(i -> i.expr().equals(removed.expr()))) {
      groups.remove(removed.expr());
    }
    return s.withItemsAndGroups(items, groups, orders);
  }

  private static SelectSpec withoutGroup(SelectSpec s, Expr group) {
    SelectSpec current = s;
    for (int i = current.items().size() - 1; i >= 0; i--) {
      if (current.items().get(i).expr().equals(group) && current.items().size() > 1) {
        current = withoutItem(current, i);
      }
    }
    List<Expr> groups = new ArrayList<>(current.groupBy());
    groups.remove(group);
    boolean stillSelected = current.items().stream().anyMatch(i -> i.expr().equals(group));
    return stillSelected
        ? s
        : current.withItemsAndGroups(current.items(), groups, current.orderBy());
  }
}
