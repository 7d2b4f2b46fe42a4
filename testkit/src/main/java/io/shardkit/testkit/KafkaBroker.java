package io.shardkit.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Kafka broker (KRaft mode: one process that is broker and controller) in a child JVM, for
 * the tests that need Kafka. The Kafka server classes ({@code org.apache.kafka:kafka_2.13}, version
 * 4) must be on the calling JVM's class path (a test dependency of the module that uses this); the
 * child runs with that class path: {@code kafka.tools.StorageTool format}, then {@code
 * kafka.Kafka}. No Docker, no download at run time. Stopped by {@link #close()} and at JVM exit.
 */
public final class KafkaBroker implements AutoCloseable {

  private final Process process;
  private final Path dir;
  private final int port;

  private KafkaBroker(Process process, Path dir, int port) {
    this.process = process;
    this.dir = dir;
    this.port = port;
  }

  /**
   * Starts a broker on a free loopback port and waits until it accepts connections.
   *
   * @throws TestShardsException when the Kafka classes are missing or it does not start in 60 s
   */
  public static KafkaBroker start() {
    try {
      Path dir = Files.createTempDirectory("shardkit-kafka-");
      int port = freePort();
      int controllerPort = freePort();
      Path config = dir.resolve("server.properties");
      Files.writeString(
          config,
          String.join(
                  "\n",
                  "process.roles=broker,controller",
                  "node.id=1",
                  "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                  "listeners=PLAINTEXT://127.0.0.1:"
                      + port
                      + ",CONTROLLER://127.0.0.1:"
                      + controllerPort,
                  "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                  "controller.listener.names=CONTROLLER",
                  "inter.broker.listener.name=PLAINTEXT",
                  "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                  "log.dirs=" + dir.resolve("data"),
                  "num.partitions=4",
                  "offsets.topic.replication.factor=1",
                  "offsets.topic.num.partitions=4",
                  "transaction.state.log.replication.factor=1",
                  "transaction.state.log.min.isr=1",
                  "share.coordinator.state.topic.replication.factor=1",
                  "share.coordinator.state.topic.min.isr=1",
                  "group.initial.rebalance.delay.ms=0",
                  "auto.create.topics.enable=true",
                  "")
              + "\n",
          StandardCharsets.UTF_8);
      Path log = dir.resolve("kafka.log");
      String clusterId = clusterId(new SecureRandom());
      Process format =
          java(
              dir,
              log,
              "kafka.tools.StorageTool",
              "format",
              "-t",
              clusterId,
              "-c",
              config.toString());
      if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
        format.destroyForcibly();
        throw new TestShardsException(
            "Kafka storage format failed (are org.apache.kafka:kafka_2.13 4.x classes on the class"
                + " path?): "
                + tail(log));
      }
      Process broker = java(dir, log, "kafka.Kafka", config.toString());
      KafkaBroker started = new KafkaBroker(broker, dir, port);
      Runtime.getRuntime().addShutdownHook(new Thread(started::close));
      long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (System.nanoTime() < end) {
        if (!broker.isAlive()) {
          throw new TestShardsException("Kafka broker exited: " + tail(log));
        }
        if (Files.readString(log).contains("Kafka Server started") && accepts(port)) {
          return started;
        }
        Thread.sleep(100);
      }
      started.close();
      throw new TestShardsException("Kafka broker did not start within 60 s: " + tail(log));
    } catch (IOException e) {
      throw new TestShardsException("cannot start a Kafka broker: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestShardsException("interrupted while starting a Kafka broker", e);
    }
  }

  /** {@code 127.0.0.1:port}, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** SIGKILLs the broker (its data stays; not restartable by this class). */
  public void kill() {
    process.destroyForcibly();
  }

  /** Stops the broker and removes its data. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory
    }
  }

  private static Process java(Path dir, Path log, String mainClass, String... args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xms128m");
    command.add("-Xmx512m");
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Dlog4j2.level=WARN");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    return builder.start();
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static String tail(Path log) {
    try {
      String text = Files.readString(log);
      return text.length() > 2000 ? text.substring(text.length() - 2000) : text;
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /**
   * A random cluster id in Kafka's form (16 bytes, URL-safe base64 without padding). One that
   * starts with '-' is drawn again: the storage tool's argument parser reads it as an option and
   * fails with "--cluster-id: expected one argument" (Kafka's own {@code Uuid.randomUuid} redraws
   * for the same reason).
   */
  static String clusterId(SecureRandom random) {
    byte[] id = new byte[16];
    while (true) {
      random.nextBytes(id);
      String encoded = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
      if (!encoded.startsWith("-")) {
        return encoded;
      }
    }
  }
}
