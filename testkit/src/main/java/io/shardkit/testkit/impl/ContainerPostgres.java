package io.shardkit.testkit.impl;

import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import io.shardkit.testkit.TestShardsException;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * PostgreSQL in a Docker container ({@code postgres:14} unless {@code
 * shardkit.testkit.postgres.image} says otherwise) through Testcontainers' {@link
 * GenericContainer}, started with {@code -c max_prepared_transactions=<n>}. It publishes 5432 on a
 * fixed host port chosen up front, so that a killed and restarted container comes back on the same
 * port with its data (prepared transactions included). User {@code postgres}, password {@code
 * shardkit}, database {@code postgres}.
 */
public final class ContainerPostgres implements PgServer {

  static final String PASSWORD = "shardkit";
  private static final long READY_TIMEOUT_MS = 180_000;

  private final GenericContainer<?> container;
  private final ContainerProcess process;
  private final String image;
  private final int port;
  private final int maxPreparedTransactions;

  @SuppressWarnings("resource")
  private ContainerPostgres(String image, int port, int maxPreparedTransactions) {
    this.image = image;
    this.port = port;
    this.maxPreparedTransactions = maxPreparedTransactions;
    this.container =
        new GenericContainer<>(DockerImageName.parse(image))
            .withEnv("POSTGRES_PASSWORD", PASSWORD)
            .withCommand(
                "postgres",
                "-c",
                "max_prepared_transactions=" + maxPreparedTransactions,
                "-c",
                "max_connections=300",
                "-c",
                "fsync=on",
                "-c",
                "synchronous_commit=on")
            .withExposedPorts(5432)
            .withCreateContainerCmdModifier(
                cmd ->
                    cmd.getHostConfig()
                        .withPortBindings(
                            new PortBinding(Ports.Binding.bindPort(port), new ExposedPort(5432))))
            // the image's entry point starts a temporary server for initdb first: the second
            // "ready" is the real one
            .waitingFor(
                Wait.forLogMessage(".*database system is ready to accept connections.*", 2)
                    .withStartupTimeout(Duration.ofMillis(READY_TIMEOUT_MS)));
    this.process = new ContainerProcess(container);
  }

  /** A fresh container (new data, free host port), started and answering. */
  public static ContainerPostgres start(String image, int maxPreparedTransactions) {
    ContainerPostgres pg = new ContainerPostgres(image, freePort(), maxPreparedTransactions);
    try {
      pg.startAgain();
    } catch (RuntimeException e) {
      pg.close();
      throw new TestShardsException(
          "testkit: cannot start PostgreSQL container " + image + ": " + e.getMessage(), e);
    }
    return pg;
  }

  @Override
  public String kind() {
    return "testcontainers";
  }

  @Override
  public String host() {
    return "127.0.0.1";
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public String user() {
    return "postgres";
  }

  @Override
  public String password() {
    return PASSWORD;
  }

  @Override
  public String database() {
    return "postgres";
  }

  @Override
  public int maxPreparedTransactions() {
    return maxPreparedTransactions;
  }

  @Override
  public String name() {
    return "PostgreSQL container " + image + " :" + port;
  }

  @Override
  public boolean controlsProcess() {
    return true;
  }

  @Override
  public synchronized long pid() {
    return process.pid();
  }

  @Override
  public synchronized void startAgain() {
    process.start();
    long deadline = System.currentTimeMillis() + READY_TIMEOUT_MS;
    while (!PostgresProviders.ping(PostgresProviders.connectOptions(this, database()))) {
      if (System.currentTimeMillis() > deadline) {
        throw new TestShardsException(
            "testkit: " + name() + " not ready after " + READY_TIMEOUT_MS + " ms");
      }
      Blocking.pause(200);
    }
  }

  @Override
  public synchronized void kill() {
    process.kill();
  }

  @Override
  public synchronized void stop() {
    process.stop(); // the image stops with SIGINT
  }

  @Override
  public synchronized void pause() {
    process.pause();
  }

  @Override
  public synchronized void resume() {
    process.resume();
  }

  @Override
  public synchronized boolean isRunning() {
    return process.isRunning();
  }

  @Override
  public synchronized void close() {
    process.destroy();
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new TestShardsException("testkit: no free port", e);
    }
  }
}
