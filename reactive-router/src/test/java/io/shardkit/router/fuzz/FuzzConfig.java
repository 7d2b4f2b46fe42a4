package io.shardkit.router.fuzz;

import java.util.List;

/**
 * The generator's dimensions, explicit so that coverage can grow by adding a value here: which
 * column types and collations value columns take, how many rows a table gets, how often a world
 * (schema + data) is rebuilt, and the share of each statement family.
 *
 * @param seed the seed of everything random
 * @param statements how many statements to generate and check
 * @param servers testkit shards (database servers) to spread the data sources over
 * @param dataSources data sources ({@code ds_0..}); sharded tables spread over up to 4 of them
 * @param columnTypes types of the value columns (keys have their own, fixed per layout)
 * @param collations collations of string columns
 * @param valueColumns value columns per table
 * @param rowsPerTable rows loaded into each logical table
 * @param statementsPerWorld statements run against one world before the next is built
 * @param dmlPercent share of DML statements (INSERT, UPDATE, DELETE), in percent
 * @param findingsToShrink how many mismatches (the first of each class) are shrunk into findings
 * @param extended the second generation ({@code --gen 2}): more sharded tables, whose keys are
 *     DECIMAL, DATE, DOUBLE, YEAR and two columns (complex-hash-mod), keys written in the forms the
 *     server converts before it stores or compares them, and parameters of more Java types. Off, a
 *     seed generates what it generated before.
 * @param generation 1 (default), 2 (the above), 3 (also CHAR, TIME and two-column string keys), 4
 *     (also MariaDB's UUID, INET6 and INET4 value columns and hash-mod keys of UUID, BIT and INET6
 *     written in the forms the server normalizes); a seed in a generation generates what it did
 *     before the next generation was added
 */
record FuzzConfig(
    long seed,
    int statements,
    int servers,
    int dataSources,
    List<ColumnType> columnTypes,
    List<String> collations,
    int valueColumns,
    int rowsPerTable,
    int statementsPerWorld,
    int dmlPercent,
    int findingsToShrink,
    int generation) {

  static final List<String> COLLATIONS =
      List.of(
          "utf8mb4_general_ci",
          "utf8mb4_unicode_ci",
          "utf8mb4_bin",
          "utf8mb4_nopad_bin",
          "latin1_swedish_ci");

  /** The second generation's: also UCA 5.2.0 and 14.0.0 (MariaDB 11.4) and latin1_general_ci. */
  static final List<String> EXTENDED_COLLATIONS =
      List.of(
          "utf8mb4_general_ci",
          "utf8mb4_unicode_ci",
          "utf8mb4_bin",
          "utf8mb4_nopad_bin",
          "latin1_swedish_ci",
          "utf8mb4_unicode_520_ci",
          "utf8mb4_uca1400_ai_ci",
          "latin1_general_ci");

  /** Value column types; strings appear once per collation (VARCHAR and CHAR alternate). */
  static List<ColumnType> defaultColumnTypes() {
    return List.of(
        ColumnType.INT,
        ColumnType.BIGINT,
        ColumnType.BIGINT_UNSIGNED,
        ColumnType.decimal(10, 2),
        ColumnType.decimal(6, 3),
        ColumnType.DOUBLE,
        ColumnType.varchar(null),
        ColumnType.varchar(null),
        ColumnType.chars(null),
        ColumnType.DATETIME,
        ColumnType.DATE,
        ColumnType.ENUM,
        ColumnType.SET,
        ColumnType.FLOAT,
        ColumnType.BIT64,
        ColumnType.BIT5,
        ColumnType.BINARY4,
        ColumnType.VARBINARY8,
        ColumnType.YEAR,
        ColumnType.TIME,
        ColumnType.TIME6,
        ColumnType.DATETIME6,
        ColumnType.TIMESTAMP3,
        ColumnType.JSON);
  }

  /**
   * The fourth generation's value column types: the defaults and MariaDB's UUID, INET6 and INET4,
   * whose stored value or order is not their text.
   */
  static List<ColumnType> fourthColumnTypes() {
    List<ColumnType> out = new java.util.ArrayList<>(defaultColumnTypes());
    out.add(ColumnType.UUID);
    out.add(ColumnType.INET6);
    out.add(ColumnType.INET4);
    out.add(ColumnType.UUID);
    out.add(ColumnType.INET6);
    return out;
  }

  static FuzzConfig defaults(long seed, int statements) {
    return new FuzzConfig(
        seed, statements, 2, 4, defaultColumnTypes(), COLLATIONS, 5, 24, 1500, 12, 25, 1);
  }

  /** Whether the second generation's tables and forms are on. */
  boolean extended() {
    return generation >= 2;
  }

  /** The same run in another generation (see {@link #generation}). */
  FuzzConfig withGeneration(int generation) {
    boolean on = generation >= 2;
    return new FuzzConfig(
        seed,
        statements,
        servers,
        dataSources,
        generation >= 4 ? fourthColumnTypes() : columnTypes,
        on ? EXTENDED_COLLATIONS : COLLATIONS,
        valueColumns,
        rowsPerTable,
        statementsPerWorld,
        dmlPercent,
        findingsToShrink,
        generation);
  }

  /** The same run with another shrinking budget. */
  FuzzConfig withFindingsToShrink(int findings) {
    return new FuzzConfig(
        seed,
        statements,
        servers,
        dataSources,
        columnTypes,
        collations,
        valueColumns,
        rowsPerTable,
        statementsPerWorld,
        dmlPercent,
        findings,
        generation);
  }

  FuzzConfig {
    if (statements < 0 || servers < 1 || dataSources < 3 || valueColumns < 1) {
      throw new IllegalArgumentException(
          "invalid fuzz config: statements="
              + statements
              + " servers="
              + servers
              + " dataSources="
              + dataSources
              + " valueColumns="
              + valueColumns);
    }
    columnTypes = List.copyOf(columnTypes);
    if (columnTypes.isEmpty() || collations.isEmpty()) {
      throw new IllegalArgumentException("invalid fuzz config: no column types or collations");
    }
    collations = List.copyOf(collations);
  }
}
