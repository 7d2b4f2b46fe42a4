package io.shardkit.router.impl.route;

import io.shardkit.router.impl.analyse.MergeSpec;
import io.shardkit.router.impl.parse.ValueRef;

/**
 * A SELECT (or a UNION / parenthesised query).
 *
 * @param sql the SQL text as given
 * @param scope the tables it reads and the conditions that select their nodes
 * @param single the template for one route unit (the SQL as written, tables renamed)
 * @param multi the template for several units (derived columns, widened LIMIT), or null when the
 *     statement cannot run on several units
 * @param multiRefusal why the statement cannot run on several units, or null
 * @param merge how several units' rows are merged, or null when it cannot run on several
 * @param limit [offset or null, count] of a top-level LIMIT with plain values, or null
 * @param limitWidened whether the multi template renders a widened LIMIT (else it has none)
 * @param union for {@code UNION [ALL]} of plain branches: how to run each branch as its own
 *     statement and combine them when the whole statement does not route to one unit, else null
 * @param locking whether a query block has a locking clause ({@code FOR UPDATE}, {@code FOR
 *     SHARE}): it then runs on the primary, never on a read replica
 */
public record SelectPlan(
    String sql,
    Plan.Scope scope,
    SqlTemplate single,
    SqlTemplate multi,
    String multiRefusal,
    MergeSpec merge,
    ValueRef[] limit,
    boolean limitWidened,
    Plan.Union union,
    boolean locking)
    implements Plan.OnUnits {

  @Override
  public Plan.Kind kind() {
    return Plan.Kind.SELECT;
  }

  @Override
  public boolean write() {
    return false;
  }
}
