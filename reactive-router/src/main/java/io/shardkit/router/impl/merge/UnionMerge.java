package io.shardkit.router.impl.merge;

import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.desc.ColumnDescriptor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One execution of a {@code UNION [ALL]} run branch by branch: each branch is an ordinary statement
 * (its units merged as usual), then the branches' rows are concatenated, deduplicated where a UNION
 * DISTINCT reaches (by the columns' collation sort keys, which each branch returns after the result
 * columns), sorted by the outer ORDER BY, cut by the outer LIMIT, and given the first branch's
 * column names and types.
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
public record UnionMerge(
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

  /** The union's result from the units' results, in unit order. */
  public MergedRowSet<Row> merge(List<RowSet<Row>> results) {
    List<List<Row>> rowsOfBranch = new ArrayList<>(branches.size());
    List<String> names = null;
    List<ColumnDescriptor> descriptors = null;
    int at = 0;
    for (Branch b : branches) {
      List<RowSet<Row>> mine = results.subList(at, at + b.units());
      at += b.units();
      RowSet<Row> rs =
          b.units() == 1 || b.merge() == null
              ? mine.get(0)
              : ResultMerger.merge(mine, b.merge(), b.offset(), b.limit(), b.params());
      if (names == null) {
        names = rs.columnsNames() == null ? List.of() : rs.columnsNames();
        descriptors = rs.columnDescriptors();
      }
      List<Row> rows = new ArrayList<>(rs.size());
      rs.forEach(rows::add);
      rowsOfBranch.add(rows);
    }
    int width = names.size();
    List<Row> all = new ArrayList<>();
    Set<List<Object>> seen = distinctThrough >= 0 ? new HashSet<>() : null;
    Collated.UnkeyedGuard guard = new Collated.UnkeyedGuard(Math.max(width, columns));
    for (int b = 0; b < rowsOfBranch.size(); b++) {
      Set<List<Object>> own = distinctBranches[b] ? new HashSet<>() : null;
      for (Row row : rowsOfBranch.get(b)) {
        if (b <= distinctThrough && !seen.add(key(row, guard))) {
          continue;
        }
        if (own != null && !own.add(key(row, guard))) {
          continue;
        }
        all.add(row);
      }
    }
    if (order != null && !order.isEmpty()) {
      all.sort(RowOrder.of(order, width));
    }
    RowDesc desc =
        RowDesc.of(
            names.subList(0, Math.min(columns, names.size())),
            descriptors == null
                ? List.of()
                : descriptors.subList(0, Math.min(descriptors.size(), columns)));
    List<Row> out = new ArrayList<>();
    long skip = offset;
    long remaining = limit < 0 ? Long.MAX_VALUE : limit;
    for (Row row : all) {
      if (remaining == 0) {
        break;
      }
      if (skip > 0) {
        skip--;
        continue;
      }
      out.add(ResultMerger.project(row, desc, columns));
      remaining--;
    }
    return MergedRowSet.of(
        out, desc.names(), desc.descriptors(), out.size(), new java.util.HashMap<>());
  }

  /** A row's DISTINCT key: each result column by its collation sort key (strings) or value. */
  private List<Object> key(Row row, Collated.UnkeyedGuard guard) {
    List<Object> key = new ArrayList<>(columns);
    for (int i = 0; i < columns; i++) {
      Object k =
          Collated.key(
              row.getValue(i),
              weights[i] < 0 ? null : row.getValue(weights[i]),
              pads[i] < 0 ? null : row.getValue(pads[i]));
      guard.check(i, k);
      key.add(k);
    }
    return key;
  }
}
