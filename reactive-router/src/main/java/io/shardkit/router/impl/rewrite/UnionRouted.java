package io.shardkit.router.impl.rewrite;

import io.shardkit.router.impl.analyse.MergeSpec;
import io.vertx.sqlclient.Tuple;
import java.util.List;

/**
 * One execution of a {@code UNION [ALL]} rewritten branch by branch: each branch is an ordinary
 * statement with its own units, run together; what the merge ({@code merge.UnionMerge}) needs to
 * combine their rows.
 *
 * @param branches per branch, in order: its units and how they merge
 * @param columns the number of result columns
 * @param weights per result column: position of its sort key in a branch row, or -1
 * @param pads per result column: position of its space-weight column, or -1
 * @param distinctThrough branches 0..distinctThrough are deduplicated together, -1 for none
 * @param distinctBranches per branch: deduplicated alone (SELECT DISTINCT after distinctThrough)
 * @param order the outer ORDER BY over branch rows (absolute positions), or null
 * @param offset rows skipped
 * @param limit rows kept at most, -1 for no LIMIT
 */
public record UnionRouted(
    List<Branch> branches,
    int columns,
    int[] weights,
    int[] pads,
    int distinctThrough,
    boolean[] distinctBranches,
    List<MergeSpec.SortKey> order,
    long offset,
    long limit) {

  /**
   * A branch's share of the units.
   *
   * @param units how many consecutive units of the statement are this branch's
   * @param merge how they merge when several (null: one unit)
   * @param offset the branch's merge offset
   * @param limit the branch's merge limit
   * @param params the branch's parameters
   */
  public record Branch(int units, MergeSpec merge, long offset, long limit, Tuple params) {}
}
