package io.shardkit.router.fuzz;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Random rows for a schema: ids 1..n, keys its algorithm can place, interesting values. */
final class FuzzData {

  private FuzzData() {}

  static Map<String, List<List<Object>>> generate(
      FuzzSchema schema, FuzzConfig config, Random random) {
    Map<String, List<List<Object>>> out = new LinkedHashMap<>();
    for (FuzzTable table : schema.tables()) {
      List<Object> keys = FuzzSchema.keyValues(table);
      List<List<Object>> rows = new ArrayList<>();
      for (int i = 1; i <= config.rowsPerTable(); i++) {
        List<Object> row = new ArrayList<>();
        row.add((long) i);
        row.add(keys.get(random.nextInt(keys.size())));
        for (FuzzColumn c : table.valueColumns()) {
          List<Object> values =
              FuzzSchema.isComplex(table) && c.name().equals("c1")
                  ? FuzzSchema.complexSecondValues(table)
                  : c.type().interestingValues();
          row.add(values.get(random.nextInt(values.size())));
        }
        rows.add(row);
      }
      out.put(table.name(), rows);
    }
    return out;
  }
}
