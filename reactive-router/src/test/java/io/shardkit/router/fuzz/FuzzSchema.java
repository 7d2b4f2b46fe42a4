package io.shardkit.router.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * A generated schema: the logical tables and the sharding rules that place them. The layouts are
 * fixed so that every algorithm and table kind is always present (mod + hash-mod by database and
 * table with a binding partner, hash-mod, hash-mod over a string key under a random collation,
 * range, interval, mod over BIGINT UNSIGNED, broadcast, single); the value columns, their types and
 * collations are random.
 */
record FuzzSchema(List<FuzzTable> tables, JsonObject rules) {

  static final String BOUND = "t_mod";
  static final String BOUND_PARTNER = "t_mod_b";
  static final String BROADCAST = "t_bc";
  static final String SINGLE = "t_single";
  static final String SINGLE_DATA_SOURCE = "ds_2";
  static final String COMPLEX = "t_cx";
  static final String COMPLEX_STRING = "t_cxs";

  FuzzTable table(String name) {
    return tables.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
  }

  Optional<FuzzTable> find(String name) {
    return tables.stream().filter(t -> t.name().equals(name)).findFirst();
  }

  static FuzzSchema generate(FuzzConfig config, Random random) {
    int n = config.dataSources();
    String all = "ds_${0.." + (n - 1) + "}";
    List<FuzzTable> tables = new ArrayList<>();
    JsonObject modRule =
        new JsonObject()
            .put("databaseStrategy", strategy("mod", new JsonObject()))
            .put("tableStrategy", strategy("hash-mod", new JsonObject().put("count", 2)));
    tables.add(
        sharded(
            config,
            random,
            BOUND,
            ColumnType.INT,
            "mod+hash-mod",
            modRule.copy().put("dataNodes", all + ".t_mod_${0..1}")));
    tables.add(
        sharded(
            config,
            random,
            BOUND_PARTNER,
            ColumnType.INT,
            "mod+hash-mod",
            modRule.copy().put("dataNodes", all + ".t_mod_b_${0..1}")));
    tables.add(
        sharded(
            config,
            random,
            "t_hash",
            ColumnType.BIGINT,
            "hash-mod",
            new JsonObject()
                .put("dataNodes", all + ".t_hash")
                .put("databaseStrategy", strategy("hash-mod", new JsonObject().put("count", n)))));
    // a string key under a random collation: collation-equal spellings must meet on one node
    tables.add(
        sharded(
            config,
            random,
            "t_str",
            ColumnType.varchar(config.collations().get(random.nextInt(config.collations().size()))),
            "hash-mod",
            new JsonObject()
                .put("dataNodes", all + ".t_str_${0..1}")
                .put("databaseStrategy", strategy("hash-mod", new JsonObject().put("count", n)))
                .put("tableStrategy", strategy("hash-mod", new JsonObject().put("count", 2)))));
    tables.add(
        sharded(
            config,
            random,
            "t_range",
            ColumnType.INT,
            "range",
            new JsonObject()
                .put("dataNodes", "ds_${0..2}.t_range")
                .put(
                    "databaseStrategy",
                    strategy(
                        "range",
                        new JsonObject().put("boundaries", new JsonArray().add(0).add(100))))));
    tables.add(
        sharded(
            config,
            random,
            "t_iv",
            ColumnType.DATETIME,
            "interval",
            new JsonObject()
                .put("dataNodes", "ds_1.t_iv_${[202312,202401,202402,202403]}")
                .put(
                    "tableStrategy",
                    strategy(
                        "interval",
                        new JsonObject()
                            .put("start", "2023-12-01")
                            .put("unit", "MONTHS")
                            .put("suffix", "yyyyMM")))));
    tables.add(
        sharded(
            config,
            random,
            "t_ubig",
            ColumnType.BIGINT_UNSIGNED,
            "mod",
            new JsonObject()
                .put("dataNodes", all + ".t_ubig")
                .put("databaseStrategy", strategy("mod", new JsonObject()))));
    if (config.extended()) {
      extendedTables(config, random, all, tables);
    }
    if (config.generation() >= 3) {
      thirdTables(config, random, all, tables);
    }
    if (config.generation() >= 4) {
      fourthTables(config, random, all, tables);
    }
    tables.add(
        new FuzzTable(
            BROADCAST,
            FuzzTable.Distribution.BROADCAST,
            "broadcast",
            columns(config, random, ColumnType.INT),
            null));
    tables.add(
        new FuzzTable(
            SINGLE,
            FuzzTable.Distribution.SINGLE,
            "single",
            columns(config, random, ColumnType.INT),
            null));
    JsonObject tablesJson = new JsonObject();
    for (FuzzTable t : tables) {
      if (t.rule() != null) {
        tablesJson.put(t.name(), t.rule());
      }
    }
    JsonArray dataSources = new JsonArray();
    for (int i = 0; i < n; i++) {
      dataSources.add("ds_" + i);
    }
    JsonObject rules =
        new JsonObject()
            .put("dataSources", dataSources)
            .put("tables", tablesJson)
            .put(
                "bindingGroups", new JsonArray().add(new JsonArray().add(BOUND).add(BOUND_PARTNER)))
            .put("broadcastTables", new JsonArray().add(BROADCAST))
            .put("singleTables", new JsonObject().put(SINGLE, SINGLE_DATA_SOURCE));
    return new FuzzSchema(List.copyOf(tables), rules);
  }

  /**
   * The second generation's sharded tables: hash-mod over a DECIMAL(10,2), a DATE, a DOUBLE and a
   * YEAR key (the server rounds, truncates or reads two-digit years before it stores or compares
   * them), and complex-hash-mod over {@code (k, c1)}, two INT columns.
   */
  private static void extendedTables(
      FuzzConfig config, Random random, String all, List<FuzzTable> tables) {
    int n = config.dataSources();
    tables.add(
        sharded(
            config,
            random,
            "t_dec",
            ColumnType.decimal(10, 2),
            "hash-mod",
            new JsonObject()
                .put("dataNodes", all + ".t_dec_${0..1}")
                .put("databaseStrategy", strategy("hash-mod", new JsonObject().put("count", n)))
                .put("tableStrategy", strategy("hash-mod", new JsonObject().put("count", 2)))));
    for (String[] t : new String[][] {{"t_date", "DATE"}, {"t_dbl", "DOUBLE"}, {"t_yr", "YEAR"}}) {
      ColumnType key =
          switch (t[1]) {
            case "DATE" -> ColumnType.DATE;
            case "DOUBLE" -> ColumnType.DOUBLE;
            default -> ColumnType.YEAR;
          };
      tables.add(
          sharded(
              config,
              random,
              t[0],
              key,
              "hash-mod",
              new JsonObject()
                  .put("dataNodes", all + "." + t[0])
                  .put(
                      "databaseStrategy", strategy("hash-mod", new JsonObject().put("count", n)))));
    }
    List<FuzzColumn> cx = new ArrayList<>(columns(config, random, ColumnType.INT));
    cx.set(2, new FuzzColumn("c1", ColumnType.INT));
    JsonObject complex =
        new JsonObject()
            .put("columns", new JsonArray().add("k").add("c1"))
            .put(
                "algorithm",
                new JsonObject()
                    .put("type", "complex-hash-mod")
                    .put("props", new JsonObject().put("count", n)));
    tables.add(
        new FuzzTable(
            COMPLEX,
            FuzzTable.Distribution.SHARDED,
            "complex-hash-mod",
            cx,
            new JsonObject().put("dataNodes", all + ".t_cx").put("databaseStrategy", complex)));
  }

  /**
   * The third generation's: hash-mod over a CHAR(20) key (stored without trailing spaces) and a
   * TIME key, and complex-hash-mod over a VARCHAR key (collation sort keys) and an INT {@code c1}.
   */
  private static void thirdTables(
      FuzzConfig config, Random random, String all, List<FuzzTable> tables) {
    int n = config.dataSources();
    String chrCollation = config.collations().get(random.nextInt(config.collations().size()));
    tables.add(
        sharded(
            config,
            random,
            "t_chr",
            new ColumnType("CHAR(20)", ColumnType.Kind.STRING, chrCollation),
            "hash-mod",
            new JsonObject()
                .put("dataNodes", all + ".t_chr_${0..1}")
                .put("databaseStrategy", strategy("hash-mod", new JsonObject().put("count", n)))
                .put("tableStrategy", strategy("hash-mod", new JsonObject().put("count", 2)))));
    tables.add(
        sharded(
            config,
            random,
            "t_tm",
            ColumnType.TIME,
            "hash-mod",
            new JsonObject()
                .put("dataNodes", all + ".t_tm")
                .put("databaseStrategy", strategy("hash-mod", new JsonObject().put("count", n)))));
    String cxCollation = config.collations().get(random.nextInt(config.collations().size()));
    List<FuzzColumn> cx = new ArrayList<>(columns(config, random, ColumnType.varchar(cxCollation)));
    cx.set(2, new FuzzColumn("c1", ColumnType.INT));
    tables.add(
        new FuzzTable(
            COMPLEX_STRING,
            FuzzTable.Distribution.SHARDED,
            "complex-hash-mod",
            cx,
            new JsonObject()
                .put("dataNodes", all + "." + COMPLEX_STRING)
                .put(
                    "databaseStrategy",
                    new JsonObject()
                        .put("columns", new JsonArray().add("k").add("c1"))
                        .put(
                            "algorithm",
                            new JsonObject()
                                .put("type", "complex-hash-mod")
                                .put("props", new JsonObject().put("count", n))))));
  }

  static final String UUID_KEYED = "t_uuid";
  static final String BIT_KEYED = "t_bitk";
  static final String INET_KEYED = "t_inet";

  /**
   * The fourth generation's: hash-mod over a UUID key ({@code t_uuid}, by database and table; the
   * server stores any spelling lower case with hyphens at 8-4-4-4-12), over a BIT(16) key ({@code
   * t_bitk}: a number stores its bits, a string its bytes) and over an INET6 key ({@code t_inet}:
   * the server normalizes addresses, so the router reads every node and refuses INSERTs). Each has
   * a value column {@code c1} of another of these types, so scatters over them are frequent.
   */
  private static void fourthTables(
      FuzzConfig config, Random random, String all, List<FuzzTable> tables) {
    int n = config.dataSources();
    Object[][] layouts = {
      {UUID_KEYED, ColumnType.UUID, ColumnType.INET6, true},
      {BIT_KEYED, ColumnType.BIT16, ColumnType.UUID, false},
      {INET_KEYED, ColumnType.INET6, ColumnType.INET4, false},
    };
    for (Object[] l : layouts) {
      String name = (String) l[0];
      boolean byTable = (Boolean) l[3];
      List<FuzzColumn> columns = new ArrayList<>(columns(config, random, (ColumnType) l[1]));
      columns.set(2, new FuzzColumn("c1", (ColumnType) l[2]));
      JsonObject rule =
          new JsonObject()
              .put("dataNodes", all + "." + name + (byTable ? "_${0..1}" : ""))
              .put("databaseStrategy", strategy("hash-mod", new JsonObject().put("count", n)));
      if (byTable) {
        rule.put("tableStrategy", strategy("hash-mod", new JsonObject().put("count", 2)));
      }
      tables.add(new FuzzTable(name, FuzzTable.Distribution.SHARDED, "hash-mod", columns, rule));
    }
  }

  /** Whether the table's key is one the server stores as normalized text (UUID, INET6, INET4). */
  static boolean normalizedKey(FuzzTable table) {
    return switch (table.key().type().kind()) {
      case UUID, INET6, INET4 -> true;
      default -> false;
    };
  }

  /** Whether the table is sharded by complex-hash-mod over {@code (k, c1)}. */
  static boolean isComplex(FuzzTable table) {
    return table.name().equals(COMPLEX) || table.name().equals(COMPLEX_STRING);
  }

  /**
   * The values {@code c1} of a complex-hash-mod table takes: integers, no NULL (for {@code t_cx}
   * those of its INT key, as in the second generation).
   */
  static List<Object> complexSecondValues(FuzzTable table) {
    return table.name().equals(COMPLEX)
        ? keyValues(table)
        : List.of(-3L, -1L, 0L, 1L, 2L, 5L, 7L, 17L, 17L, 42L, 100L);
  }

  private static JsonObject strategy(String type, JsonObject props) {
    JsonObject algorithm = new JsonObject().put("type", type);
    if (!props.isEmpty()) {
      algorithm.put("props", props);
    }
    return new JsonObject().put("column", "k").put("algorithm", algorithm);
  }

  private static FuzzTable sharded(
      FuzzConfig config,
      Random random,
      String name,
      ColumnType key,
      String algorithm,
      JsonObject rule) {
    return new FuzzTable(
        name, FuzzTable.Distribution.SHARDED, algorithm, columns(config, random, key), rule);
  }

  /** {@code id}, the key {@code k}, then random value columns {@code c1..cN}. */
  private static List<FuzzColumn> columns(FuzzConfig config, Random random, ColumnType key) {
    List<FuzzColumn> columns = new ArrayList<>();
    columns.add(new FuzzColumn("id", ColumnType.INT));
    columns.add(new FuzzColumn("k", key));
    boolean hasString = false;
    for (int i = 1; i <= config.valueColumns(); i++) {
      ColumnType type = config.columnTypes().get(random.nextInt(config.columnTypes().size()));
      if (i == config.valueColumns() && !hasString) {
        type = ColumnType.varchar(null);
      }
      if (type.isString()) {
        hasString = true;
        String collation = config.collations().get(random.nextInt(config.collations().size()));
        type = new ColumnType(type.ddl(), type.kind(), collation);
      }
      columns.add(new FuzzColumn("c" + i, type));
    }
    return columns;
  }

  /** The key values a table's rows take: what its algorithm can place, with duplicates. */
  static List<Object> keyValues(FuzzTable table) {
    ColumnType type = table.key().type();
    List<Object> out = new ArrayList<>();
    switch (type.kind()) {
      case DATETIME -> {
        for (int month = 0; month < 4; month++) {
          for (int day : new int[] {1, 15, 28}) {
            out.add(java.time.LocalDateTime.of(2023, 12, day, 12, 0).plusMonths(month));
          }
        }
        out.add(java.time.LocalDateTime.of(2024, 1, 31, 23, 59, 59));
      }
      case DECIMAL -> {
        for (String v :
            List.of(
                "0.00", "1.50", "1.50", "1.01", "-1.01", "2.35", "4.00", "17.00", "99999999.99")) {
          out.add(new java.math.BigDecimal(v));
        }
      }
      case DATE -> {
        for (int day : new int[] {1, 15, 15, 16, 29}) {
          out.add(java.time.LocalDate.of(2024, 2, day));
        }
        out.add(java.time.LocalDate.of(1999, 12, 31));
      }
      case DOUBLE -> {
        for (double v : new double[] {0.0, -1.5, 0.1, 0.1, 2.5, 1e10, 9007199254740992.0, 17}) {
          out.add(v);
        }
      }
      case TIME -> {
        for (long minutes : new long[] {0, 750, 750, -750, 1500, -1}) {
          out.add(java.time.Duration.ofMinutes(minutes));
        }
        out.add(java.time.Duration.ofHours(838).plusMinutes(59).plusSeconds(59));
        out.add(java.time.Duration.ofSeconds(-1));
      }
      case YEAR -> {
        for (long v : new long[] {0, 1901, 1970, 1999, 2000, 2001, 2024, 2024, 2069, 2155}) {
          out.add(v);
        }
      }
      case UNSIGNED -> {
        for (long v = 0; v < 12; v++) {
          out.add(java.math.BigInteger.valueOf(v));
        }
        out.add(java.math.BigInteger.valueOf(17));
        out.add(java.math.BigInteger.valueOf(Long.MAX_VALUE));
      }
      case UUID -> {
        // as the server stores them (the loader places rows by this text); other spellings are
        // the conditions' and INSERTs' (Literals, DmlGenerator)
        for (String v :
            List.of(
                "00000001-0000-1000-8000-000000000002",
                "00000002-0000-1000-8000-000000000001",
                "00000002-0000-1000-8000-000000000001",
                "123e4567-e89b-12d3-a456-426655440000",
                "aaaaaaaa-bbbb-4ccc-9ddd-eeeeeeeeeeee",
                "018f2b6e-7a00-7c3d-8e4f-0123456789ab",
                "00000000-0000-0000-0000-000000000000",
                "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "01234567-89ab-4def-8123-456789abcdef",
                "0000000f-0000-0000-0000-00000000001f")) {
          out.add(v);
        }
      }
      case INET6 -> {
        for (String v :
            List.of(
                "::",
                "::1",
                "::1",
                "2001:db8::1",
                "2001:db8::ff00:42:8329",
                "::ffff:10.0.0.1",
                "::ffff:9.255.255.255",
                "fe80::1",
                "ffff::")) {
          out.add(v);
        }
      }
      case BIT -> {
        // 55 and 12599 are the bytes of '7' and '17', which a string stores in a BIT column
        for (long v : new long[] {0, 1, 2, 5, 5, 7, 17, 17, 48, 55, 255, 256, 12599, 65535}) {
          out.add(v);
        }
      }
      case STRING -> {
        // spellings one collation or another holds equal (case, accents, trailing spaces, ß)
        for (String v :
            List.of(
                "Zoë@example.com",
                "zoe@example.com",
                "ZOE@EXAMPLE.COM ",
                "Zürich",
                "zurich",
                "ZURICH",
                "Zurich  ",
                "émile",
                "Émile",
                "emile",
                "a",
                "A",
                "a ",
                "ß",
                "ss",
                "123",
                "0123",
                " 17")) {
          out.add(v);
        }
      }
      default -> {
        for (long v = -3; v < 12; v++) {
          out.add(v);
        }
        for (long v : new long[] {17, 17, 42, 99, 100, 150, -50, 2024}) {
          out.add(v);
        }
        if (type.kind() == ColumnType.Kind.BIGINT) {
          out.add(5_000_000_000L);
          out.add(-5_000_000_000L);
        }
      }
    }
    return out;
  }
}
