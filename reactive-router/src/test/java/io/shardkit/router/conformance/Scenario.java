package io.shardkit.router.conformance;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One scenario folder of a corpus (layout in the module README): rules, logical and physical DDL,
 * logical and per-node data, and the cases.
 *
 * @param name the folder name
 * @param dir the folder
 * @param rules {@code rules.json}: a ShardingSphere-derived description or shardkit rule JSON
 * @param schemaSql {@code schema.sql}: logical DDL for the unsharded reference database
 * @param actualSchemaSql {@code actual_schema.sql}: physical DDL, tables qualified by database
 * @param data {@code data.json}: logical table → rows
 * @param actualData {@code actual_data.json}: {@code database.table} → rows
 * @param cases {@code cases.json}
 */
record Scenario(
    String name,
    Path dir,
    JsonObject rules,
    String schemaSql,
    String actualSchemaSql,
    JsonObject data,
    JsonObject actualData,
    List<CorpusCase> cases) {

  static final List<String> FILES =
      List.of(
          "rules.json",
          "schema.sql",
          "actual_schema.sql",
          "data.json",
          "actual_data.json",
          "cases.json");

  /** Whether a folder looks like a scenario (has rules.json and cases.json). */
  static boolean isScenario(Path dir) {
    return Files.isRegularFile(dir.resolve("rules.json"))
        && Files.isRegularFile(dir.resolve("cases.json"));
  }

  /**
   * The scenarios of a corpus folder, sorted by name: its sub-folders that are scenarios, or the
   * folder itself when it is one.
   */
  static List<Path> scenarioDirs(Path corpus) {
    if (isScenario(corpus)) {
      return List.of(corpus);
    }
    try (Stream<Path> children = Files.list(corpus)) {
      return children.filter(Files::isDirectory).filter(Scenario::isScenario).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list corpus folder " + corpus, e);
    }
  }

  static Scenario load(Path dir) {
    for (String file : FILES) {
      if (!Files.isRegularFile(dir.resolve(file))) {
        throw new IllegalArgumentException(
            "scenario " + dir + " lacks " + file + " (a scenario needs " + FILES + ")");
      }
    }
    JsonArray casesJson = new JsonArray(read(dir, "cases.json"));
    List<CorpusCase> cases = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < casesJson.size(); i++) {
      CorpusCase c = CorpusCase.fromJson(casesJson.getJsonObject(i));
      if (!ids.add(c.id())) {
        throw new IllegalArgumentException("scenario " + dir + ": case id " + c.id() + " twice");
      }
      cases.add(c);
    }
    return new Scenario(
        dir.getFileName().toString(),
        dir,
        new JsonObject(read(dir, "rules.json")),
        read(dir, "schema.sql"),
        read(dir, "actual_schema.sql"),
        new JsonObject(read(dir, "data.json")),
        new JsonObject(read(dir, "actual_data.json")),
        List.copyOf(cases));
  }

  private static String read(Path dir, String file) {
    try {
      return Files.readString(dir.resolve(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve(file), e);
    }
  }
}
