package io.shardkit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Runs the operations example for a few seconds and scrapes its Prometheus endpoint while the
 * workload runs: the meters the README documents are there with the workload's outcomes, and every
 * metric the Grafana dashboard queries exists (in this scrape; for meters that only appear at their
 * first event, in the committed scrape taken under {@code --chaos} or, for recovery counters, as a
 * counter documented in the README's meter table).
 */
class OperationsExampleTest {

  private static final Pattern METRIC = Pattern.compile("shardkit_[a-z_]+");
  private static final Pattern DOCUMENTED =
      Pattern.compile("^\\| `(shardkit\\.[a-z.]+)` \\| counter \\|", Pattern.MULTILINE);

  @Test
  void servesTheWorkloadsMetricsAndTheDashboardQueriesOnlyExistingOnes() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    int chosen = port;
    CompletableFuture<Void> example =
        CompletableFuture.runAsync(
            () -> {
              try {
                new OperationsExample().run(8, false, chosen);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    String scrape = "";
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < until && !example.isDone()) {
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + chosen + "/metrics"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        scrape = response.body();
        if (scrape.contains("shardkit_tx_transactions_total{mode=\"tcc\",outcome=\"committed\"}")
            && scrape.contains(
                "shardkit_tx_transactions_total{mode=\"xa\",outcome=\"committed\"}")) {
          break;
        }
      } catch (java.io.IOException notYetListening) {
        // the example is still starting its shards
      }
      Thread.sleep(250);
    }
    example.get(60, TimeUnit.SECONDS);

    assertThat(scrape)
        .contains("shardkit_tx_transactions_total{mode=\"xa\",outcome=\"committed\"}")
        .contains("shardkit_tx_transactions_total{mode=\"tcc\",outcome=\"committed\"}")
        .contains("shardkit_router_statements_total{kind=\"select\",route=\"single\"}")
        .contains(
            "shardkit_router_shard_statements_seconds_count{kind=\"select\",outcome=\"success\",shard=\"ds_3\"}");
    for (int shard = 0; shard < 4; shard++) {
      assertThat(scrape).contains("shardkit_breaker_state{shard=\"ds_" + shard + "\"} 0.0");
    }
    assertThat(scrape).doesNotContain("SELECT").doesNotContain("UPDATE");

    Set<String> available = names(scrape);
    available.addAll(names(Files.readString(Path.of("prometheus-sample.txt"))));
    // Counters that only appear at their first event (recovery did not run in either scrape):
    // accept them when the README's meter table documents the meter they are the Prometheus name
    // of.
    Matcher documented = DOCUMENTED.matcher(Files.readString(Path.of("../README.md")));
    while (documented.find()) {
      available.add(documented.group(1).replace('.', '_') + "_total");
    }
    Set<String> queried = names(Files.readString(Path.of("grafana/shardkit-dashboard.json")));
    // the replica panels' meters: ReadReplicasExampleTest checks them against its own scrape
    queried.removeIf(
        name ->
            name.startsWith("shardkit_router_replica_")
                || name.startsWith("shardkit_pool_replica_"));
    assertThat(queried).isNotEmpty();
    assertThat(available).containsAll(queried);
  }

  private static Set<String> names(String text) {
    Set<String> out = new TreeSet<>();
    Matcher m = METRIC.matcher(text);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }
}
