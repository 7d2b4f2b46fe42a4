package io.shardkit.router.impl.merge;

import io.vertx.sqlclient.desc.ColumnDescriptor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Column names and descriptors of a merged result, with a name → index lookup. */
record RowDesc(List<String> names, List<ColumnDescriptor> descriptors, Map<String, Integer> index) {

  static RowDesc of(List<String> names, List<ColumnDescriptor> descriptors) {
    Map<String, Integer> index = new HashMap<>();
    for (int i = names.size() - 1; i >= 0; i--) {
      index.put(names.get(i), i);
    }
    return new RowDesc(
        List.copyOf(names), descriptors == null ? List.of() : List.copyOf(descriptors), index);
  }

  int indexOf(String name) {
    Integer i = index.get(name);
    if (i != null) {
      return i;
    }
    for (int k = 0; k < names.size(); k++) {
      if (names.get(k).equalsIgnoreCase(name)) {
        return k;
      }
    }
    return -1;
  }
}
