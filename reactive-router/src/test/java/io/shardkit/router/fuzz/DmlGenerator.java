package io.shardkit.router.fuzz;

import io.shardkit.router.fuzz.PredicateGenerator.Scoped;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * Random writes: multi-row INSERTs (keys sometimes as strings such as {@code '017'}), UPDATEs of
 * value columns (sometimes of the key) and DELETEs by key, by key range or by other columns.
 */
final class DmlGenerator {

  private static final BigInteger UNSIGNED_MAX = new BigInteger("18446744073709551615");

  private final FuzzSchema schema;
  private final Literals literals;
  private final PredicateGenerator predicates;
  private long nextId = 100_000;

  DmlGenerator(FuzzSchema schema, Literals literals) {
    this.schema = schema;
    this.literals = literals;
    this.predicates = new PredicateGenerator(literals);
  }

  DmlSpec next() {
    FuzzTable table = literals.pick(schema.tables());
    List<Scoped> scope = new ArrayList<>();
    table.columns().forEach(c -> scope.add(new Scoped(table, null, c)));
    int roll = literals.between(0, 99);
    if (roll < 45) {
      return insert(table);
    }
    Pred where = keyedWhere(scope);
    Long limit = null;
    if (literals.extended() && literals.chance(20)) {
      // ORDER BY id LIMIT n, routed when the key pins one node (refused on several)
      Pred pin =
          new Pred.Compare(
              scope.get(1).expr(),
              "=",
              new Expr.Value(literals.storableFor(table, table.key()), literals.chance(50)));
      where = literals.chance(50) ? pin : new Pred.Junction("AND", List.of(pin, where));
      limit = (long) literals.between(0, 3);
    }
    if (roll < 75) {
      List<DmlSpec.Assignment> sets = new ArrayList<>();
      int n = literals.between(1, 2);
      for (int i = 0; i < n; i++) {
        FuzzColumn c = literals.chance(8) ? table.key() : literals.pick(table.valueColumns());
        Object v = literals.storableFor(table, c);
        if (v != null && Literals.normalized(c.type().kind()) && literals.chance(40)) {
          // fourth generation: a UUID or address in a spelling the server normalizes
          v = literals.spelling(c.type(), v);
        } else if (c == table.key()
            && literals.generation() >= 4
            && insertForm(c.type().kind()) != null
            && literals.chance(50)) {
          // fourth generation: the key set to a form the server converts before it stores it
          // ('2024-02-15 10:00:00' for a DATE, 1.005 for a DECIMAL(10,2), '12:30' for a TIME):
          // the row stays where a read of its stored value looks, or the UPDATE is refused
          v = insertForm(c.type().kind());
        }
        sets.add(new DmlSpec.Assignment(c, new Expr.Value(v, literals.chance(50))));
      }
      return new DmlSpec(DmlSpec.Kind.UPDATE, table, List.of(), sets, where, limit);
    }
    return new DmlSpec(DmlSpec.Kind.DELETE, table, List.of(), List.of(), where, limit);
  }

  private Pred keyedWhere(List<Scoped> scope) {
    Scoped key = scope.get(1);
    int roll = literals.between(0, 99);
    if (roll < 30) {
      return new Pred.Compare(key.expr(), "=", predicates.value(key));
    }
    if (roll < 45) {
      return predicates.between(key, false);
    }
    if (roll < 55) {
      return new Pred.In(
          key.expr(),
          PredicateGenerator.oneKindOnBitKey(
              key, List.of(predicates.value(key), predicates.value(key))),
          false);
    }
    return predicates.condition(scope, 1);
  }

  /**
   * A key the server converts before it stores it (second-generation key kinds): decimals rounded
   * to the column's scale or written as strings, datetimes and numbers stored as a DATE, decimals
   * and strings stored as a DOUBLE, two-digit years. Null for the other key kinds.
   */
  private Object insertForm(ColumnType.Kind kind) {
    List<Object> forms =
        switch (kind) {
          case DECIMAL ->
              List.of(
                  new java.math.BigDecimal("1.005"),
                  new java.math.BigDecimal("-1.005"),
                  new java.math.BigDecimal("3.999"),
                  new java.math.BigDecimal("2.345"),
                  "01.5",
                  "1.5",
                  " 2.35",
                  "1.505",
                  2L,
                  1.5);
          case DATE ->
              List.of(
                  "2024-02-15 10:00:00",
                  java.time.LocalDateTime.of(2024, 2, 16, 23, 59, 59),
                  20240215103000L,
                  "20240229",
                  java.time.LocalDate.of(2024, 2, 1));
          case DOUBLE ->
              List.of(
                  new java.math.BigDecimal("0.1000000000000000055"),
                  "0.10",
                  9007199254740993L,
                  "1e10",
                  0.1f,
                  new java.math.BigDecimal("2.50"));
          case YEAR -> List.of(24L, "24", 70L, "0", 0L, "00", 1L, "2024", 99L);
          case BIT ->
              // a string stores its bytes ('7' is 55): refused; numbers in other forms are placed
              List.of(
                  "7",
                  "17",
                  new java.math.BigDecimal("5.0"),
                  5.0,
                  true,
                  new SqlText.Raw("b'101'", 5L),
                  new SqlText.Raw("0x0011", 17L),
                  new SqlText.Raw(
                      "X'3137'", io.vertx.core.buffer.Buffer.buffer(new byte[] {0x31, 0x37})),
                  new java.math.BigDecimal("5.5"));
          case TIME ->
              List.of(
                  "12:30",
                  " 12:30:00",
                  "25:00",
                  123000L,
                  java.time.LocalTime.of(12, 30),
                  java.time.Duration.ofMinutes(750).plusMillis(400),
                  java.time.Duration.ofMinutes(750).plusMillis(600),
                  "-0:0:1");
          default -> List.of();
        };
    return forms.isEmpty() ? null : literals.pick(forms);
  }

  private DmlSpec insert(FuzzTable table) {
    List<List<Expr>> rows = new ArrayList<>();
    int n = literals.between(1, 4);
    for (int r = 0; r < n; r++) {
      List<Expr> row = new ArrayList<>();
      row.add(new Expr.Value(nextId++, literals.chance(50)));
      Object key = literals.storableFor(table, table.key());
      if (table.key().type().kind() == ColumnType.Kind.DATETIME && literals.chance(10)) {
        key = java.time.LocalDateTime.of(2025, 6, 1, 0, 0); // after the last interval table
      } else if (table.key().type().kind() == ColumnType.Kind.UNSIGNED && literals.chance(15)) {
        key = literals.pick(List.of(UNSIGNED_MAX, UNSIGNED_MAX.shiftRight(1).add(BigInteger.ONE)));
      } else if (Literals.normalized(table.key().type().kind()) && literals.chance(40)) {
        // fourth generation: a UUID (or address) key in a spelling the server normalizes
        key = literals.spelling(table.key().type(), key);
      } else if (insertForm(table.key().type().kind()) != null && literals.chance(30)) {
        key = insertForm(table.key().type().kind());
      } else if (key instanceof Long l && literals.chance(20)) {
        key = literals.pick(List.of(String.valueOf(l), "0" + l, " " + l));
      }
      row.add(new Expr.Value(key, literals.chance(50)));
      for (FuzzColumn c : table.valueColumns()) {
        row.add(new Expr.Value(literals.storableFor(table, c), literals.chance(50)));
      }
      rows.add(row);
    }
    return new DmlSpec(DmlSpec.Kind.INSERT, table, rows, List.of(), null);
  }
}
