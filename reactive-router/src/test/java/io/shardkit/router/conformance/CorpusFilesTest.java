package io.shardkit.router.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.DataNode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading corpus files, translating rules and finding the corpus, without a database. */
class CorpusFilesTest {

  @Test
  void splitsScriptsOutsideQuotesAndDropsComments() {
    List<String> actual =
        SqlScripts.statements(
            "-- a comment; with a semicolon\nCREATE TABLE a (x INT);\nINSERT INTO a VALUES (';');\n\n");

    assertThat(actual).containsExactly("CREATE TABLE a (x INT)", "INSERT INTO a VALUES (';')");
  }

  @Test
  void findsAndRemovesDatabaseQualifiers() {
    String sql = "CREATE INDEX order_index ON db_1.t_order (order_id)";

    assertThat(SqlScripts.qualifiers(sql)).containsExactly("db_1");
    assertThat(SqlScripts.unqualify(sql, "db_1"))
        .isEqualTo("CREATE INDEX order_index ON t_order (order_id)");
    assertThat(SqlScripts.unqualify("CREATE TABLE `db_10`.t (x INT)", "db_1"))
        .isEqualTo("CREATE TABLE `db_10`.t (x INT)");
  }

  @Test
  void quotesLiteralsForInserts() {
    assertThat(SqlScripts.literal("it's \\ ok")).isEqualTo("'it''s \\\\ ok'");
    assertThat(SqlScripts.literal(null)).isEqualTo("NULL");
    assertThat(SqlScripts.literal(12)).isEqualTo("12");
  }

  @Test
  void translatesShardingSphereModuloStrategiesHintsAndKeyGenerators() {
    JsonObject rules =
        new JsonObject(
            """
            {"sharding_tables": {
               "t_order": {
                 "actual_data_nodes_expanded": ["ds_a0.t_order_0", "ds_a0.t_order_1",
                                                "ds_a1.t_order_0", "ds_a1.t_order_1"],
                 "database_strategy": {"type": "standard", "sharding_column": "user_id",
                                       "expression": "user_id % 2"},
                 "table_strategy": {"type": "standard", "sharding_column": "order_id",
                                    "expression": "order_id % 2"},
                 "key_generator": {"column": "order_id", "type": "IT.AUTO_INCREMENT.FIXTURE"}},
               "t_product": {
                 "actual_data_nodes_expanded": ["ds_a0.t_product_0", "ds_a0.t_product_1"],
                 "table_strategy": {"type": "hint",
                                    "props": {"algorithm-expression": "t_product_${value}"}}}},
             "broadcast_tables": ["t_country"],
             "single_tables": {"t_user": "ds_a1"},
             "data_sources": {"x0": {"database": "ds_a0"}, "x1": {"database": "ds_a1"}}}
            """);
    Scenario scenario =
        new Scenario(
            "s",
            Path.of("."),
            rules,
            "CREATE TABLE t_order (order_id BIGINT, user_id INT, s VARCHAR(3))",
            "",
            new JsonObject(),
            new JsonObject(),
            List.of());

    RuleTranslation actual = RuleTranslation.of(scenario);

    assertThat(actual.format()).isEqualTo("shardingsphere");
    assertThat(actual.rules().nodeFor("t_order", Map.of("user_id", 3, "order_id", 10)))
        .isEqualTo(new DataNode("ds_a1", "t_order_0"));
    assertThat(actual.rules().tableRule("t_order").orElseThrow().columns())
        .containsExactly("order_id", "user_id", "s");
    assertThat(actual.rules().tableRule("t_order").orElseThrow().keyGenerator().nextKey())
        .isEqualTo(1L);
    assertThat(
            actual
                .rules()
                .tableRule("t_product")
                .orElseThrow()
                .tableStrategy()
                .orElseThrow()
                .columns())
        .isEmpty();
    assertThat(actual.rules().isBroadcast("t_country")).isTrue();
    assertThat(actual.rules().singleTables()).containsEntry("t_user", "ds_a1");
    assertThat(actual.databases()).containsEntry("ds_a0", "ds_a0");
  }

  @Test
  void refusesToGuessAStrategyItCannotExpress() {
    JsonObject rules =
        new JsonObject(
            """
            {"sharding_tables": {"t": {
               "actual_data_nodes_expanded": ["d0.t", "d1.t"],
               "database_strategy": {"type": "standard", "sharding_column": "id",
                                     "expression": "(id / 10) % 2"}}}}
            """);
    Scenario scenario =
        new Scenario(
            "s", Path.of("."), rules, "", "", new JsonObject(), new JsonObject(), List.of());

    assertThatThrownBy(() -> RuleTranslation.of(scenario))
        .hasMessageContaining("sharding_tables.t.database_strategy")
        .hasMessageContaining("(id / 10) % 2");
  }

  @Test
  void readsShardkitRulesWithTheirDatabaseNames() {
    JsonObject rules =
        new JsonObject()
            .put(
                RuleTranslation.MARKER,
                new JsonObject()
                    .put("format", 1)
                    .put("databases", new JsonObject().put("ds_0", "first")))
            .put("singleTables", new JsonObject().put("t", "ds_0").put("u", "ds_1"));
    Scenario scenario =
        new Scenario(
            "s", Path.of("."), rules, "", "", new JsonObject(), new JsonObject(), List.of());

    RuleTranslation actual = RuleTranslation.of(scenario);

    assertThat(actual.format()).isEqualTo("shardkit");
    assertThat(actual.databases()).containsEntry("ds_0", "first").containsEntry("ds_1", "ds_1");
  }

  @Test
  void readsTypedParametersOfACase() {
    JsonObject json =
        new JsonObject()
            .put("id", "c#1")
            .put("sql", "SELECT ?")
            .put(
                "params",
                new JsonArray()
                    .add(new JsonObject().put("value", 10).put("type", "int"))
                    .add(new JsonObject().put("value", 10).put("type", "long"))
                    .add(new JsonObject().put("value", "x").put("type", "String")))
            .put("db_types", new JsonArray().add("PostgreSQL"));

    CorpusCase actual = CorpusCase.fromJson(json);

    assertThat(actual.params()).containsExactly(10, 10L, "x");
    assertThat(actual.runnable()).as("a case not meant for MySQL").isFalse();
  }

  @Test
  void findsTheSharedCorpusNextToTheMainCheckoutOfAWorktree(@TempDir Path tmp) throws IOException {
    Path main = Files.createDirectories(tmp.resolve("main"));
    Files.createDirectories(main.resolve(".git/worktrees/conf"));
    Path worktree = Files.createDirectories(tmp.resolve("wt/conf"));
    Files.writeString(worktree.resolve("pom.xml"), "<project/>");
    Files.writeString(worktree.resolve(".git"), "gitdir: " + main.resolve(".git/worktrees/conf"));
    Path module = Files.createDirectories(worktree.resolve("reactive-router"));
    Files.writeString(module.resolve("pom.xml"), "<project/>");

    List<Path> actual = CorpusLocator.defaultCandidates(module);

    assertThat(actual.get(0)).isEqualTo(tmp.resolve("wt").resolve(CorpusLocator.DEFAULT));
    assertThat(actual).contains(tmp.resolve(CorpusLocator.DEFAULT));
    assertThat(actual).last().isEqualTo(module.resolve(CorpusLocator.VENDORED));
  }

  @Test
  void theModuleKeepsACopyOfTheSharedCorpus() {
    Path vendored = CorpusLocator.moduleDir().resolve(CorpusLocator.VENDORED);
    assertThat(vendored.resolve("README.md")).isRegularFile();
    for (String scenario : List.of("db", "tbl", "dbtbl_with_readwrite_splitting")) {
      assertThat(vendored.resolve(scenario).resolve("cases.json")).isRegularFile();
    }
  }

  @Test
  void readsShardingSphereHintComments() {
    HintComment actual =
        HintComment.of(
                "/* SHARDINGSPHERE_HINT: t_product.SHARDING_TABLE_VALUE=1,"
                    + " T_Order.SHARDING_DATABASE_VALUE=ds_x, DATA_SOURCE_NAME=ds_0 */INSERT INTO t")
            .orElseThrow();

    assertThat(actual.tableValues()).containsEntry("t_product", List.of(1L));
    assertThat(actual.databaseValues()).containsEntry("t_order", List.of("ds_x"));
    assertThat(actual.dataSource()).isEqualTo("ds_0");
    assertThat(HintComment.of("/* just a comment */ SELECT 1")).isEmpty();
  }
}
