package io.shardkit.router.impl.route;

import io.shardkit.router.DataNode;
import io.shardkit.router.TableRule;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The data nodes of one sharded table indexed by data source and by actual table, as bit sets. */
final class TableIndex {

  final TableRule rule;
  final List<DataNode> nodes;
  final Map<String, BitSet> byDataSource = new HashMap<>();
  final Map<String, BitSet> byTable = new HashMap<>();
  final BitSet all = new BitSet();

  TableIndex(TableRule rule) {
    this.rule = rule;
    this.nodes = rule.dataNodes();
    for (int i = 0; i < nodes.size(); i++) {
      DataNode node = nodes.get(i);
      byDataSource.computeIfAbsent(node.dataSource(), k -> new BitSet()).set(i);
      byTable.computeIfAbsent(node.table(), k -> new BitSet()).set(i);
      all.set(i);
    }
  }
}
