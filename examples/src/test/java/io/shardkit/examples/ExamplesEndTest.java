package io.shardkit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.examples.tcc.TccGrpcExample;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every example program as a user does, in a JVM of its own, and checks that it ends by itself
 * with exit code 0 (no thread left running, no {@code System.exit}) and prints what it promises.
 */
class ExamplesEndTest {

  private static final long TIMEOUT_SECONDS = 180;

  /** Every program of examples/src/main, with its arguments and lines its output must contain. */
  record Example(Class<?> program, List<String> args, List<String> expectedOutput) {
    @Override
    public String toString() {
      return program.getSimpleName() + " " + String.join(" ", args);
    }
  }

  static List<Example> examples() throws IOException {
    return List.of(
        new Example(
            OrdersExample.class,
            List.of(),
            List.of("by key:  order 4 (user 11) amount 40", "scatter: 8 orders", "ds_1.t_order_1")),
        new Example(
            RouterTour.class,
            List.of(),
            List.of("streamed 20 rows in amount order", "refused before any I/O: true")),
        new Example(
            ContextPropagationExample.class,
            List.of(),
            List.of("audit", "open scopes after the run")),
        new Example(
            OperationsExample.class,
            List.of("3", "--port=" + freePort()),
            List.of("stopping after 3 s", "final outcomes:", "operations example: done")),
        new Example(
            OutboxExample.class,
            List.of(),
            List.of(
                "metric: shardkit_outbox_published_total{data_source=\"ds_0\",sink=\"eventbus\"}",
                "metric: shardkit_outbox_backlog{data_source=\"ds_1\"}",
                "metric: shardkit_outbox_oldest_age_ms{data_source=\"ds_0\"}",
                "metric: shardkit_outbox_stuck{data_source=\"ds_0\"} 0.0",
                "metric: shardkit_outbox_relay_active{data_source=\"ds_1\"} 1.0",
                "metric: shardkit_outbox_latency_seconds{data_source=\"ds_0\",sink=\"eventbus\",quantile=\"0.99\"}",
                "outbox example: done, 19 orders applied once, 1 refused without a message")),
        new Example(TccGrpcExample.class, List.of(), List.of("TCC gRPC example: done, consistent")),
        new Example(
            MultiSourceExample.class,
            List.of(),
            List.of(
                "transfer 1 (account 1 -> 2, 30): committed, ledger row 1, cache evicted"
                    + " (balance:1 tombstone at version 1, balance:2 tombstone at version 1)",
                "transfer 2 (account 2 -> 3, 50): committed, ledger row 2, cache refreshed"
                    + " (balance:2 = 180 at version 2, balance:3 = 200 at version 1)",
                "transfer 3 (account 4 -> 1, 500): rolled back, InsufficientFundsException:"
                    + " account 4 cannot pay 500; no ledger row, no cache effect, account 1's"
                    + " credit undone (balance 70)",
                "transfer 5 (account 4 -> 1, 70): committed, ledger row 5, cache evicted",
                "account 1: read 140 (cache miss, read from the database and cached), cached 140"
                    + " at version 2, database 140 at version 2: equal",
                "account 3: read 80 (cache hit), cached 80 at version 2, database 80 at version 2:"
                    + " equal",
                "cache consistent: 4 of 4 cached balances equal the database",
                "money conserved: 500 before, 500 after",
                "ledger: 4 rows for 4 committed transfers; prepared transactions left: 0",
                "multi-source example: done, 4 transfers committed, 1 rolled back, consistent")),
        new Example(
            ReadReplicasExample.class,
            List.of(),
            List.of(
                "ds_0 reads by server, replica 1 lagging: {3=10}",
                "under RoutingHint.primary(): balance 201 from server 1",
                "read replicas example: done")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("examples")
  @Execution(ExecutionMode.CONCURRENT) // child JVMs, each with its own servers: two at a time
  void endsByItselfWithExitCodeZero(Example example) throws Exception {
    Path log = Files.createTempFile("shardkit-example-", ".log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(testClassPath());
    command.add(example.program().getName());
    command.addAll(example.args());
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    // The forked JVM must not inherit a coverage agent or the tests' JVM options.
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    Process process = builder.start();
    try {
      boolean ended = process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      String output = Files.readString(log);
      assertThat(ended)
          .as(
              "%s did not end within %d s (a thread left running?); output:%n%s",
              example, TIMEOUT_SECONDS, output)
          .isTrue();
      assertThat(process.exitValue()).as("exit code of %s; output:%n%s", example, output).isZero();
      assertThat(output).as("output of %s", example).contains(example.expectedOutput());
    } finally {
      process.destroyForcibly();
      Files.deleteIfExists(log);
    }
  }

  /** A program added to examples/src/main without a line above fails here. */
  @Test
  void everyProgramIsRun() throws IOException {
    TreeSet<String> expected = new TreeSet<>();
    Path classes = Path.of("target", "classes");
    try (Stream<Path> files = Files.walk(classes)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = classes.relativize(file).toString();
        if (!name.endsWith(".class") || name.contains("$")) {
          continue;
        }
        String className = name.substring(0, name.length() - 6).replace(File.separatorChar, '.');
        if (hasMain(className)) {
          expected.add(className);
        }
      }
    }
    TreeSet<String> actual = new TreeSet<>();
    for (Example e : examples()) {
      actual.add(e.program().getName());
    }

    assertThat(actual).isEqualTo(expected);
  }

  private static boolean hasMain(String className) {
    try {
      Method main = Class.forName(className).getDeclaredMethod("main", String[].class);
      return Modifier.isStatic(main.getModifiers()) && Modifier.isPublic(main.getModifiers());
    } catch (NoSuchMethodException | ClassNotFoundException e) {
      return false;
    }
  }

  /** Surefire gives the test class path here; java.class.path may be its booter jar only. */
  private static String testClassPath() {
    String path = System.getProperty("surefire.test.class.path");
    return path != null ? path : System.getProperty("java.class.path");
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
