package io.shardkit.router.impl.merge;

import io.shardkit.router.impl.analyse.Collated;
import io.shardkit.router.impl.analyse.MergeSpec;
import io.shardkit.router.impl.rewrite.UnionRouted;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.desc.ColumnDescriptor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Merges one execution of a {@code UNION [ALL]} run branch by branch (see {@link UnionRouted}):
 * each branch's units are merged as usual, then the branches' rows are concatenated, deduplicated
 * where a UNION DISTINCT reaches (by the columns' collation sort keys, which each branch returns
 * after the result columns), sorted by the outer ORDER BY, cut by the outer LIMIT, and given the
 * first branch's column names and types.
 *
 * @param union what the rewriter produced: the branches' shares of the units and the outer merge
 */
public record UnionMerge(UnionRouted union) {

  /** The union's result from the units' results, in unit order. */
  public MergedRowSet<Row> merge(List<RowSet<Row>> results) {
    List<UnionRouted.Branch> branches = union.branches();
    int columns = union.columns();
    int distinctThrough = union.distinctThrough();
    boolean[] distinctBranches = union.distinctBranches();
    List<MergeSpec.SortKey> order = union.order();
    long offset = union.offset();
    long limit = union.limit();
    List<List<Row>> rowsOfBranch = new ArrayList<>(branches.size());
    List<String> names = null;
    List<ColumnDescriptor> descriptors = null;
    int at = 0;
    for (UnionRouted.Branch b : branches) {
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
    int columns = union.columns();
    int[] weights = union.weights();
    int[] pads = union.pads();
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
