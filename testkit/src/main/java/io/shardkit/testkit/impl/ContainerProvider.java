package io.shardkit.testkit.impl;

import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.TestShardsException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * Shards in Docker containers ({@code mysql:8.4} unless {@code shardkit.testkit.image} says
 * otherwise), through Testcontainers. Each container publishes MySQL on a fixed host port chosen up
 * front, so that a killed and restarted container comes back on the same port.
 */
public final class ContainerProvider implements ShardProvider {

  static final String PASSWORD = "shardkit";

  private final String image;
  private final List<ContainerShard> shards = new CopyOnWriteArrayList<>();

  public ContainerProvider(String image) {
    this.image = image;
  }

  /**
   * Whether a Docker engine is reachable. Asks Testcontainers only when there is a hint of one (a
   * socket, DOCKER_HOST or a Testcontainers configuration), because its probe is slow to fail.
   */
  public static boolean dockerAvailable() {
    boolean hint =
        System.getenv("DOCKER_HOST") != null
            || Files.exists(Path.of("/var/run/docker.sock"))
            || Files.exists(Path.of(System.getProperty("user.home"), ".testcontainers.properties"));
    if (!hint) {
      return false;
    }
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  @Override
  public String kind() {
    return "testcontainers";
  }

  @Override
  public List<Shard> start(int firstIndex, int count) {
    List<ContainerShard> started = new ArrayList<>();
    List<CompletableFuture<Void>> starting = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ContainerShard shard = new ContainerShard(firstIndex + i, image, freePort());
      shards.add(shard);
      started.add(shard);
      starting.add(CompletableFuture.runAsync(shard::start));
    }
    CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).join();
    return new ArrayList<>(started);
  }

  @Override
  public void close() {
    for (ContainerShard shard : shards) {
      shard.destroy();
    }
    shards.clear();
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new TestShardsException("testkit: no free port", e);
    }
  }

  private static final class ContainerShard extends AbstractShard {

    private final GenericContainer<?> container;
    private final ContainerProcess process;
    private final int port;

    @SuppressWarnings("resource")
    ContainerShard(int index, String image, int port) {
      super(index);
      this.port = port;
      this.container =
          new GenericContainer<>(DockerImageName.parse(image))
              .withEnv("MYSQL_ROOT_PASSWORD", PASSWORD)
              .withCommand(
                  "--mysql-native-password=ON",
                  "--authentication-policy=mysql_native_password",
                  "--character-set-server=utf8mb4",
                  "--collation-server=utf8mb4_general_ci",
                  "--max-connections=1000")
              .withExposedPorts(3306)
              .withCreateContainerCmdModifier(
                  cmd ->
                      cmd.getHostConfig()
                          .withPortBindings(
                              new PortBinding(Ports.Binding.bindPort(port), new ExposedPort(3306))))
              .waitingFor(
                  Wait.forLogMessage(".*ready for connections.*port: 3306.*", 1)
                      .withStartupTimeout(Duration.ofMinutes(3)));
      this.process = new ContainerProcess(container);
    }

    @Override
    public String name() {
      return "shard-"
          + index()
          + " (container "
          + container.getDockerImageName()
          + " :"
          + port
          + ")";
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
      return "root";
    }

    @Override
    public String password() {
      return PASSWORD;
    }

    @Override
    public boolean controlsProcess() {
      return true;
    }

    @Override
    public synchronized void start() {
      process.start();
      long deadline = System.currentTimeMillis() + 180_000;
      while (!Admin.ping(connectOptions(null))) {
        if (System.currentTimeMillis() > deadline) {
          throw new TestShardsException("testkit: " + name() + " not ready after 180 s");
        }
        Blocking.pause(200);
      }
    }

    @Override
    public synchronized void stop() {
      process.stop();
    }

    @Override
    public synchronized void kill() {
      process.kill();
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
    public synchronized boolean isPaused() {
      return process.isPaused();
    }

    synchronized void destroy() {
      closeProxies();
      process.destroy();
    }
  }
}
