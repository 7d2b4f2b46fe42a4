package io.shardkit.tx.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestShards;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The command: exit code, summary and JSON report, on real shards. */
class CheckMainTest {

  @Test
  void exitCodeSummaryAndReport() throws Exception {
    try (ShardDatabases dbs = TestShards.get(2).createDatabases("check_main", 2)) {
      dbs.executeOnAll(
          "CREATE TABLE t_country (code INT PRIMARY KEY, name VARCHAR(20))",
          "INSERT INTO t_country VALUES (1, 'a'), (2, 'b')");
      JsonObject sources = new JsonObject();
      for (int i = 0; i < 2; i++) {
        var o = dbs.get(i).connectOptions();
        sources.put(
            "ds_" + i,
            new JsonObject()
                .put("host", o.getHost())
                .put("port", o.getPort())
                .put("user", o.getUser())
                .put("password", o.getPassword())
                .put("database", o.getDatabase()));
      }
      JsonObject config =
          new JsonObject()
              .put(
                  "rules",
                  new JsonObject()
                      .put(
                          "dataSources", new io.vertx.core.json.JsonArray().add("ds_0").add("ds_1"))
                      .put("broadcastTables", new io.vertx.core.json.JsonArray().add("t_country")))
              .put("dataSources", sources)
              .put("transactions", new JsonObject().put("logDataSource", "ds_0"));
      Path file = Files.createTempFile("shardkit-check", ".json");
      Path out = Files.createTempFile("shardkit-check-report", ".json");
      Files.writeString(file, config.encode());

      assertThat(run("--config", file.toString(), "--out", out.toString())).isZero();
      dbs.get(1).execute("UPDATE t_country SET name = 'B' WHERE code = 2");
      ByteArrayOutputStream text = new ByteArrayOutputStream();
      int code =
          CheckMain.run(
              new String[] {"--config", file.toString(), "--out", out.toString(), "--copies"},
              new PrintStream(text, true, StandardCharsets.UTF_8),
              System.err);
      assertThat(code).isEqualTo(1);
      assertThat(text.toString(StandardCharsets.UTF_8))
          .contains("INCONSISTENT: 1 anomalies")
          .contains("BROADCAST_COPY_DIFFERS ds_1 t_country (2)");
      JsonObject report = new JsonObject(Files.readString(out));
      assertThat(report.getBoolean("consistent")).isFalse();
      assertThat(report.getJsonArray("anomalies").getJsonObject(0).getString("keys"))
          .isEqualTo("(2)");

      assertThat(run("--config", "/nonexistent.json")).isEqualTo(2);
      assertThat(run("--bogus")).isEqualTo(2);
      Files.deleteIfExists(file);
      Files.deleteIfExists(out);
    }
  }

  private static int run(String... args) {
    return CheckMain.run(args, System.out, System.err);
  }
}
