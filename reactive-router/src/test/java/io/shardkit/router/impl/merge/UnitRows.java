package io.shardkit.router.impl.merge;

import io.shardkit.router.impl.analyse.MergeSpec;
import io.shardkit.router.impl.route.Plan;
import io.shardkit.router.impl.route.SelectPlan;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * In-memory unit results shaped like the multi-unit SQL of a plan: the test gives the visible
 * values and the values of the derived columns other than sort keys; the sort key columns ({@code
 * WEIGHT_STRING} and the pad weight) are filled the way {@code utf8mb4_general_ci} fills them (one
 * 2-byte weight per character: upper case without accents; pad = the weight of a space).
 */
final class UnitRows {

  private static final Pattern DERIVED = Pattern.compile("AS (sk_derived_([a-z])(\\d+))");
  static final Buffer SPACE = Buffer.buffer(new byte[] {0, 0x20});

  private final SelectPlan plan;
  private final List<String> visible;
  private final List<String> derivedNames = new ArrayList<>();
  private final List<Character> derivedKinds = new ArrayList<>();
  private final Map<Integer, MergeSpec.ColumnRef> weightOf = new HashMap<>();

  UnitRows(Plan plan, List<String> visible) {
    this.plan = (SelectPlan) plan;
    this.visible = visible;
    Matcher m = DERIVED.matcher(this.plan.multi().toString());
    while (m.find()) {
      derivedNames.add(m.group(1));
      derivedKinds.add(m.group(2).charAt(0));
    }
    MergeSpec spec = this.plan.merge();
    List<MergeSpec.Key> keys = new ArrayList<>(spec.groupKeys());
    spec.orderBy().forEach(k -> keys.add(k.key()));
    if (spec.distinctKeys() != null) {
      keys.addAll(spec.distinctKeys());
    }
    spec.aggregates().forEach(a -> keys.add(a.compared()));
    for (MergeSpec.Key k : keys) {
      if (k != null && k.weight() != null) {
        weightOf.put(k.weight().index(), k.column());
      }
    }
  }

  /** All column names: visible ones, then the derived ones. */
  List<String> columns() {
    List<String> all = new ArrayList<>(visible);
    all.addAll(derivedNames);
    return all;
  }

  /** A unit result; each row holds the visible values then the non-sort-key derived values. */
  RowSet<Row> unit(Object[]... rows) {
    List<Object[]> full = new ArrayList<>();
    for (Object[] given : rows) {
      Object[] row = new Object[visible.size() + derivedNames.size()];
      int g = 0;
      for (int i = 0; i < visible.size(); i++) {
        row[i] = given[g++];
      }
      for (int d = 0; d < derivedNames.size(); d++) {
        char kind = derivedKinds.get(d);
        if (kind != 'w' && kind != 'p') {
          row[visible.size() + d] = given[g++];
        }
      }
      for (int d = 0; d < derivedNames.size(); d++) {
        char kind = derivedKinds.get(d);
        if (kind == 'w') {
          Object v = row[weightOf.get(d).resolve(visible.size())];
          row[visible.size() + d] = v instanceof String s ? weight(s) : null;
        } else if (kind == 'p') {
          row[visible.size() + d] = SPACE;
        }
      }
      full.add(row);
    }
    return ResultMergerTest.unit(columns(), full.toArray(new Object[0][]));
  }

  /** utf8mb4_general_ci's sort key of a string, for the characters tests use. */
  static Buffer weight(String s) {
    String base = Normalizer.normalize(s, Normalizer.Form.NFD).replaceAll("\\p{M}", "");
    String upper = base.toUpperCase(Locale.ROOT);
    Buffer b = Buffer.buffer();
    for (char c : upper.toCharArray()) {
      b.appendShort((short) c);
    }
    return b;
  }

  SelectPlan plan() {
    return plan;
  }
}
