package io.shardkit.tx.check;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Compares copies of one table by chunked checksums over primary-key ranges (as pt-table-checksum
 * and Vitess's VDiff do): chunk bounds are walked on the reference copy; per chunk every copy gives
 * its row count, the XOR and the sum of the rows' CRC32; a chunk that differs is (after a replica
 * caught up) read row by row on both sides, at most {@code 2 × chunkSize} rows each, and the
 * differing rows are reported by key. Memory stays bounded by the chunk; a rate limit spaces the
 * checksum queries.
 */
final class CopyCheck {

  /**
   * A copy of the table: where it is and how to wait until it caught up (null: nothing to wait).
   */
  record Copy(String name, Pool pool, Function<Void, Future<Void>> catchUp) {}

  private static final int RETRIES = 3;
  private static final int ROWS_REPORTED_PER_CHUNK = 10;

  private final Vertx vertx;
  private final CheckOptions options;
  private final CheckReport report;
  private final Anomaly.Kind kind;

  CopyCheck(Vertx vertx, CheckOptions options, CheckReport report, Anomaly.Kind kind) {
    this.vertx = vertx;
    this.options = options;
    this.report = report;
    this.kind = kind;
  }

  /** Compares {@code table} of every copy with the reference's. */
  Future<Void> compare(String table, String referenceName, Pool reference, List<Copy> copies) {
    return layout(reference, table)
        .compose(
            layout -> {
              if (layout == null) {
                report.note(
                    "table "
                        + table
                        + " not found on "
                        + referenceName
                        + ": its copies not compared");
                return Future.succeededFuture();
              }
              report.count("tables compared", 1);
              return chunk(table, layout, referenceName, reference, copies, null);
            });
  }

  /** Columns and primary key of a table. */
  record Layout(List<String> columns, List<String> key) {
    String rowExpr() {
      StringBuilder flags = new StringBuilder("CONCAT(");
      StringBuilder values = new StringBuilder("CONCAT_WS('#'");
      for (int i = 0; i < columns.size(); i++) {
        String c = q(columns.get(i));
        values.append(", ").append(c);
        flags.append(i == 0 ? "" : ", ").append("ISNULL(").append(c).append(")");
      }
      return "CRC32(" + values + ", " + flags + ")))";
    }

    String keyList() {
      return String.join(", ", key.stream().map(CopyCheck::q).toList());
    }

    String range(Tuple lo, Tuple hi) {
      List<String> where = new ArrayList<>();
      if (lo != null) {
        where.add("(" + keyList() + ") > (" + marks() + ")");
      }
      if (hi != null) {
        where.add("(" + keyList() + ") <= (" + marks() + ")");
      }
      return where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where);
    }

    private String marks() {
      return String.join(", ", java.util.Collections.nCopies(key.size(), "?"));
    }
  }

  private Future<Layout> layout(Pool pool, String table) {
    Future<RowSet<Row>> columns =
        pool.preparedQuery(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
                    + " AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION")
            .execute(Tuple.of(table));
    Future<RowSet<Row>> key =
        pool.preparedQuery(
                "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA ="
                    + " DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY"
                    + " ORDINAL_POSITION")
            .execute(Tuple.of(table));
    return Future.all(columns, key)
        .map(
            v -> {
              List<String> cols = new ArrayList<>();
              columns.result().forEach(r -> cols.add(r.getString(0)));
              if (cols.isEmpty()) {
                return null;
              }
              List<String> keys = new ArrayList<>();
              key.result().forEach(r -> keys.add(r.getString(0)));
              if (keys.isEmpty()) {
                report.note(
                    "table "
                        + table
                        + " has no primary key: compared as one chunk, rows by content");
                keys.addAll(cols);
              }
              return new Layout(cols, keys);
            });
  }

  private Future<Void> chunk(
      String table,
      Layout layout,
      String referenceName,
      Pool reference,
      List<Copy> copies,
      Tuple lo) {
    return upperBound(reference, table, layout, lo)
        .compose(
            hi -> {
              Future<Void> all = Future.succeededFuture();
              for (Copy copy : copies) {
                all = all.compose(v -> compareChunk(table, layout, reference, copy, lo, hi, 0));
              }
              report.count("chunks compared", copies.size());
              return all.compose(v -> pace())
                  .compose(
                      v ->
                          hi == null
                              ? Future.succeededFuture()
                              : chunk(table, layout, referenceName, reference, copies, hi));
            });
  }

  /** The key of the chunk's last row on the reference, or null for the last chunk. */
  private Future<Tuple> upperBound(Pool reference, String table, Layout layout, Tuple lo) {
    String sql =
        "SELECT "
            + layout.keyList()
            + " FROM "
            + q(table)
            + layout.range(lo, null)
            + " ORDER BY "
            + layout.keyList()
            + " LIMIT 1 OFFSET "
            + (options.chunkSize() - 1);
    return reference
        .preparedQuery(sql)
        .execute(lo == null ? Tuple.tuple() : lo)
        .map(
            rows -> {
              if (!rows.iterator().hasNext()) {
                return null;
              }
              Row row = rows.iterator().next();
              Tuple key = Tuple.tuple();
              for (int i = 0; i < row.size(); i++) {
                key.addValue(row.getValue(i));
              }
              return key;
            });
  }

  private Future<Void> pace() {
    if (options.maxChunksPerSecond() == 0) {
      return Future.succeededFuture();
    }
    return vertx.timer(Math.max(1, 1000L / options.maxChunksPerSecond())).mapEmpty();
  }

  private static Tuple params(Tuple lo, Tuple hi) {
    Tuple t = Tuple.tuple();
    if (lo != null) {
      for (int i = 0; i < lo.size(); i++) {
        t.addValue(lo.getValue(i));
      }
    }
    if (hi != null) {
      for (int i = 0; i < hi.size(); i++) {
        t.addValue(hi.getValue(i));
      }
    }
    return t;
  }

  private Future<List<Object>> checksum(
      Pool pool, String table, Layout layout, Tuple lo, Tuple hi) {
    String expr = layout.rowExpr();
    String sql =
        "SELECT COUNT(*), COALESCE(BIT_XOR("
            + expr
            + "), 0), COALESCE(SUM("
            + expr
            + "), 0) FROM "
            + q(table)
            + layout.range(lo, hi);
    return pool.preparedQuery(sql)
        .execute(params(lo, hi))
        .map(
            rows -> {
              Row r = rows.iterator().next();
              return List.of(
                  String.valueOf(r.getValue(0)),
                  String.valueOf(r.getValue(1)),
                  String.valueOf(r.getValue(2)));
            });
  }

  private Future<Void> compareChunk(
      String table, Layout layout, Pool reference, Copy copy, Tuple lo, Tuple hi, int attempt) {
    Future<List<Object>> ref = checksum(reference, table, layout, lo, hi);
    Future<List<Object>> other = checksum(copy.pool(), table, layout, lo, hi);
    return Future.all(ref, other)
        .compose(
            v -> {
              if (attempt == 0) {
                report.count("rows compared", Long.parseLong((String) ref.result().get(0)));
              }
              if (ref.result().equals(other.result())) {
                return Future.succeededFuture();
              }
              if (copy.catchUp() != null && attempt < RETRIES) {
                return copy.catchUp()
                    .apply(null)
                    .compose(
                        w -> compareChunk(table, layout, reference, copy, lo, hi, attempt + 1));
              }
              return drill(table, layout, reference, copy, lo, hi);
            });
  }

  private Future<Void> drill(
      String table, Layout layout, Pool reference, Copy copy, Tuple lo, Tuple hi) {
    String sql =
        "SELECT * FROM "
            + q(table)
            + layout.range(lo, hi)
            + " ORDER BY "
            + layout.keyList()
            + " LIMIT "
            + (2L * options.chunkSize() + 1);
    Future<RowSet<Row>> ref = reference.preparedQuery(sql).execute(params(lo, hi));
    Future<RowSet<Row>> other = copy.pool().preparedQuery(sql).execute(params(lo, hi));
    return Future.all(ref, other)
        .map(
            v -> {
              Map<String, Map<String, Object>> a = byKey(ref.result(), layout);
              Map<String, Map<String, Object>> b = byKey(other.result(), layout);
              int reported = 0;
              int differing = 0;
              List<Anomaly> found = new ArrayList<>();
              for (Map.Entry<String, Map<String, Object>> e : a.entrySet()) {
                Map<String, Object> mine = b.get(e.getKey());
                String detail = null;
                if (mine == null) {
                  detail = "row missing on " + copy.name();
                } else if (!same(e.getValue(), mine)) {
                  detail = "row differs on " + copy.name() + ": " + diff(e.getValue(), mine);
                }
                if (detail != null) {
                  differing++;
                  if (reported++ < ROWS_REPORTED_PER_CHUNK) {
                    found.add(new Anomaly(kind, copy.name(), table, e.getKey(), null, detail));
                  }
                }
              }
              for (String key : b.keySet()) {
                if (!a.containsKey(key)) {
                  differing++;
                  if (reported++ < ROWS_REPORTED_PER_CHUNK) {
                    found.add(
                        new Anomaly(
                            kind,
                            copy.name(),
                            table,
                            key,
                            null,
                            "row on " + copy.name() + " that the reference does not have"));
                  }
                }
              }
              if (differing == 0) {
                // checksums differed but the rows read back equal: the rows changed meanwhile
                found.add(
                    new Anomaly(
                        kind,
                        copy.name(),
                        table,
                        describe(lo, hi),
                        null,
                        "chunk checksum differs on "
                            + copy.name()
                            + " (rows changed while being compared?): check again"));
              } else if (differing > reported) {
                found.add(
                    new Anomaly(
                        kind,
                        copy.name(),
                        table,
                        describe(lo, hi),
                        null,
                        (differing - ROWS_REPORTED_PER_CHUNK)
                            + " more differing rows in this key range"));
              }
              found.forEach(report::add);
              return null;
            });
  }

  private static Map<String, Map<String, Object>> byKey(RowSet<Row> rows, Layout layout) {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    for (Row row : rows) {
      Map<String, Object> values = new LinkedHashMap<>();
      for (int i = 0; i < row.size(); i++) {
        values.put(row.getColumnName(i), comparable(row.getValue(i)));
      }
      StringBuilder key = new StringBuilder("(");
      for (int i = 0; i < layout.key().size(); i++) {
        key.append(i == 0 ? "" : ", ").append(values.get(layout.key().get(i)));
      }
      out.put(key.append(")").toString(), values);
    }
    return out;
  }

  private static Object comparable(Object v) {
    return v instanceof io.vertx.core.buffer.Buffer b
        ? java.util.HexFormat.of().formatHex(b.getBytes())
        : v;
  }

  private static boolean same(Map<String, Object> a, Map<String, Object> b) {
    for (Map.Entry<String, Object> e : a.entrySet()) {
      if (!Objects.equals(e.getValue(), b.get(e.getKey()))) {
        return false;
      }
    }
    return a.size() == b.size();
  }

  private static String diff(Map<String, Object> a, Map<String, Object> b) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Object> e : a.entrySet()) {
      Object other = b.get(e.getKey());
      if (!Objects.equals(e.getValue(), other)) {
        out.add(e.getKey() + " " + e.getValue() + " vs " + other);
      }
    }
    return String.join(", ", out);
  }

  private static String describe(Tuple lo, Tuple hi) {
    return "(" + (lo == null ? "start" : tuple(lo)) + ", " + (hi == null ? "end" : tuple(hi)) + "]";
  }

  private static String tuple(Tuple t) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < t.size(); i++) {
      parts.add(String.valueOf(t.getValue(i)));
    }
    return String.join(",", parts);
  }

  static String q(String identifier) {
    return "`" + identifier.replace("`", "``") + "`";
  }
}
