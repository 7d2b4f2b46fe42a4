package io.shardkit.router.impl.rewrite;

import io.shardkit.router.impl.analyse.MergeSpec;
import io.shardkit.router.impl.parse.ValueRef;
import io.shardkit.router.impl.route.Cond;
import io.shardkit.router.impl.route.InsertPlan;
import io.shardkit.router.impl.route.Plan;
import io.shardkit.router.impl.route.RouteUnit;
import io.shardkit.router.impl.route.Routing;
import io.shardkit.router.impl.route.SelectPlan;
import io.shardkit.router.impl.route.SqlTemplate;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * Rewrite of one routed execution: the SQL and parameters of each unit the router chose, and what
 * the merge needs (spec, resolved LIMIT, generated keys). Pure; it does not route.
 */
public final class Rewriter {

  private Rewriter() {}

  /** A rewriter; it renders what the router decided and never routes itself. */
  public static Rewriter of() {
    return new Rewriter();
  }

  /**
   * The executable form of one statement execution.
   *
   * @param units what to run where
   * @param merge how to merge several units' rows (null: one unit, or a write)
   * @param offset rows the merge skips (LIMIT offset), 0 if none
   * @param limit rows the merge keeps at most, -1 if no LIMIT
   * @param generatedKeys keys generated for an INSERT, in row order (empty if none)
   * @param write whether the statement writes
   * @param params the parameters of the execution (HAVING may read them), null for text queries
   * @param replicated the units write the copies of one broadcast table: the statement's update
   *     count is one copy's, not their sum
   * @param plan the plan this execution was routed from (statement kind and logical tables, for
   *     metrics and spans)
   */
  public record Routed(
      List<SqlUnit> units,
      MergeSpec merge,
      long offset,
      long limit,
      List<Object> generatedKeys,
      boolean write,
      Tuple params,
      boolean replicated,
      Plan plan,
      UnionRouted union) {

    public Routed(
        List<SqlUnit> units,
        MergeSpec merge,
        long offset,
        long limit,
        List<Object> generatedKeys,
        boolean write,
        Tuple params,
        boolean replicated,
        Plan plan) {
      this(units, merge, offset, limit, generatedKeys, write, params, replicated, plan, null);
    }
  }

  /**
   * Rewrites one routed execution; {@code params} null means a text query. The routing comes from
   * {@code Router.routing} for the same plan and parameters.
   */
  public Routed rewrite(Plan plan, Routing routing, Tuple params) {
    if (routing instanceof Routing.Rows rows) {
      return insert((InsertPlan) plan, rows);
    }
    if (routing instanceof Routing.Branches branches) {
      return union((SelectPlan) plan, branches, params);
    }
    Routing.Units routed = (Routing.Units) routing;
    List<RouteUnit> units = routed.units();
    Plan.OnUnits onUnits = (Plan.OnUnits) plan;
    // only a SELECT has a LIMIT the merge applies and a merge spec
    SelectPlan select = plan instanceof SelectPlan s ? s : null;
    ValueRef[] limitRef = select == null ? null : select.limit();
    boolean multi = units.size() > 1;
    SqlTemplate template = multi ? onUnits.multi() : onUnits.single();
    SqlTemplate.LimitMode mode =
        multi && select != null && select.limitWidened()
            ? SqlTemplate.LimitMode.WIDENED
            : SqlTemplate.LimitMode.ORIGINAL;
    List<SqlUnit> out = new ArrayList<>(units.size());
    List<List<ValueRef>> inItems = plan.inItems();
    java.util.BitSet[][] inNodes = routed.inNodes();
    for (RouteUnit unit : units) {
      int[][] kept = inNodes == null ? null : prune(plan, unit, inNodes);
      if (kept == null && template.sendsAsGiven(params)) {
        // the unit's parameters are the statement's, in order: its own tuple, not a copy
        String sql = template.render(unit, null, null, inItems, limitRef, mode, null);
        out.add(new SqlUnit(unit.dataSource(), sql, params));
        continue;
      }
      List<Object> unitParams = params == null ? null : new ArrayList<>(params.size());
      String sql = template.render(unit, params, kept, inItems, limitRef, mode, unitParams);
      out.add(new SqlUnit(unit.dataSource(), sql, params == null ? null : Tuple.wrap(unitParams)));
    }
    long offset = 0;
    long limit = -1;
    if (multi && limitRef != null) {
      offset = limitRef[0] == null ? 0 : SqlTemplate.toLong(limitRef[0].resolve(params));
      limit = SqlTemplate.toLong(limitRef[1].resolve(params));
    }
    return new Routed(
        out,
        multi && select != null ? select.merge() : null,
        offset,
        limit,
        List.of(),
        plan.write(),
        params,
        replicated(plan, out),
        plan);
  }

  /**
   * A UNION whose branches route to different nodes: each branch is routed and rewritten as its own
   * statement with its share of the parameters; the units of all branches run together and {@code
   * merge.UnionMerge} combines their results.
   */
  private Routed union(SelectPlan plan, Routing.Branches routing, Tuple params) {
    Plan.Union u = plan.union();
    List<SqlUnit> units = new ArrayList<>();
    List<UnionRouted.Branch> branches = new ArrayList<>();
    for (int b = 0; b < u.branches().size(); b++) {
      Routed r = rewrite(u.branches().get(b), routing.branches().get(b), routing.params().get(b));
      units.addAll(r.units());
      branches.add(
          new UnionRouted.Branch(r.units().size(), r.merge(), r.offset(), r.limit(), r.params()));
    }
    long offset = 0;
    long limit = -1;
    if (u.limit() != null) {
      offset = u.limit()[0] == null ? 0 : SqlTemplate.toLong(u.limit()[0].resolve(params));
      limit = SqlTemplate.toLong(u.limit()[1].resolve(params));
    }
    List<MergeSpec.SortKey> order = new ArrayList<>();
    for (int i = 0; i < u.orderColumns().length; i++) {
      int c = u.orderColumns()[i];
      order.add(
          new MergeSpec.SortKey(
              new MergeSpec.Key(
                  MergeSpec.ColumnRef.start(c),
                  u.weights()[c] < 0 ? null : MergeSpec.ColumnRef.start(u.weights()[c]),
                  u.pads()[c] < 0 ? null : MergeSpec.ColumnRef.start(u.pads()[c])),
              u.descending()[i]));
    }
    UnionRouted merge =
        new UnionRouted(
            List.copyOf(branches),
            u.columns(),
            u.weights(),
            u.pads(),
            u.distinctThrough(),
            u.distinctBranches(),
            order,
            offset,
            limit);
    return new Routed(units, null, 0, -1, List.of(), false, params, false, plan, merge);
  }

  private static int[][] prune(Plan plan, RouteUnit unit, java.util.BitSet[][] inNodes) {
    int[][] kept = new int[inNodes.length][];
    for (int slot = 0; slot < inNodes.length; slot++) {
      Cond.Leaf leaf = plan.inLeaves().get(slot);
      int tableSlot = plan.slots().indexOf(leaf.table());
      if (tableSlot < 0
          || unit.actualTables().length <= tableSlot
          || unit.actualTables()[tableSlot] == null) {
        continue;
      }
      int node = unit.nodeIndexes()[tableSlot];
      java.util.BitSet[] items = inNodes[slot];
      int[] keep = new int[items.length];
      int n = 0;
      for (int i = 0; i < items.length; i++) {
        if (items[i] == null || items[i].get(node)) {
          keep[n++] = i;
        }
      }
      if (n == 1 && items.length > 1) {
        // an IN of one item is an =, which the server may compare in another type than the list:
        // a DECIMAL k IN ('1.0100000000000000001', 7) compares k with the string as doubles (1.01
        // is in), k = '1.0100000000000000001' as decimals (measured on MariaDB 11.4). Another
        // item, which routing placed on other nodes, keeps the unit's list an IN
        keep[n++] = keep[0] == 0 ? 1 : 0;
        java.util.Arrays.sort(keep, 0, n);
      }
      if (n > 0 && n < items.length) {
        kept[slot] = java.util.Arrays.copyOf(keep, n);
      }
    }
    return kept;
  }

  private Routed insert(InsertPlan plan, Routing.Rows routing) {
    Plan.InsertSpec spec = plan.insert();
    List<Object> keys = routing.generatedKeys();
    Tuple effective = routing.params();
    List<Routing.InsertUnit> units = routing.units();
    List<SqlUnit> out = new ArrayList<>(units.size());
    for (Routing.InsertUnit insertUnit : units) {
      RouteUnit unit = insertUnit.unit();
      List<Object> unitParams = effective == null ? null : new ArrayList<>();
      StringBuilder sql =
          new StringBuilder(
              spec.prefix()
                  .render(
                      unit,
                      effective,
                      null,
                      List.of(),
                      null,
                      SqlTemplate.LimitMode.ORIGINAL,
                      unitParams));
      int[] rows = insertUnit.rows();
      for (int i = 0; i < rows.length; i++) {
        if (i > 0) {
          sql.append(", ");
        }
        sql.append(
            spec.rows()
                .get(rows[i])
                .render(
                    unit,
                    effective,
                    null,
                    List.of(),
                    null,
                    SqlTemplate.LimitMode.ORIGINAL,
                    unitParams));
      }
      sql.append(
          spec.suffix()
              .render(
                  unit,
                  effective,
                  null,
                  List.of(),
                  null,
                  SqlTemplate.LimitMode.ORIGINAL,
                  unitParams));
      out.add(
          new SqlUnit(
              unit.dataSource(),
              sql.toString(),
              effective == null ? null : Tuple.wrap(unitParams)));
    }
    return new Routed(out, null, 0, -1, keys, true, effective, replicated(plan, out), plan);
  }

  /** A write to a broadcast table runs once per copy: its result is one copy's, not the sum. */
  private static boolean replicated(Plan plan, List<SqlUnit> units) {
    return plan.write()
        && units.size() > 1
        && !plan.uses().isEmpty()
        && plan.uses().get(0).kind() == Plan.UseKind.BROADCAST;
  }
}
