package io.shardkit.router.fuzz;

import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.HashMap;
import java.util.Map;

/**
 * Equality under a collation, as the reference database decides it: the key of a string is its
 * {@code WEIGHT_STRING} under the collation (trailing spaces removed first for PAD SPACE
 * collations, which ignore them). Two strings are collation-equal exactly when their keys are
 * equal. Keys are cached: the generated data uses a small set of strings.
 */
final class CollationKeys implements CollationKey {

  private final Pool reference;
  private final Map<String, String> cache = new HashMap<>();

  CollationKeys(Pool reference) {
    this.reference = reference;
  }

  @Override
  public String key(String collation, String value) {
    return cache.computeIfAbsent(collation + "\u0000" + value, k -> ask(collation, value));
  }

  private String ask(String collation, String value) {
    String charset = collation.substring(0, collation.indexOf('_'));
    String text = collation.contains("nopad") ? value : value.replaceAll(" +$", "");
    RowSet<Row> rows =
        Await.result(
            reference
                .preparedQuery(
                    "SELECT HEX(WEIGHT_STRING(CONVERT(? USING "
                        + charset
                        + ") COLLATE "
                        + collation
                        + "))")
                .execute(Tuple.of(text)),
            "WEIGHT_STRING under " + collation);
    return rows.iterator().next().getString(0);
  }
}
