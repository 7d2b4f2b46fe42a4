package io.shardkit.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Redis server for the tests that need one: the {@code redis-server} binary of the OS
 * package (on the {@code PATH}, or {@code SHARDKIT_TESTKIT_REDIS_SERVER}), started as a child
 * process on a free loopback port in a temporary directory, with the faults the reliability tests
 * inject: {@link #kill()} (SIGKILL), {@link #pause()}/{@link #resume()} (SIGSTOP/SIGCONT) and
 * {@link #start()} again on the same port.
 *
 * <p>By default nothing is persisted (a killed server comes back empty). {@link #startDurable()}
 * runs with {@code appendonly yes} and {@code appendfsync always}: every write a client saw
 * acknowledged survives a kill, which a fence kept in Redis needs. Stopped by {@link #close()} and
 * at JVM exit.
 */
public final class TestRedis implements AutoCloseable {

  private final Path dir;
  private final int port;
  private final boolean durable;
  private final String binary;
  private volatile Process process;

  private TestRedis(Path dir, int port, boolean durable, String binary) {
    this.dir = dir;
    this.port = port;
    this.durable = durable;
    this.binary = binary;
  }

  /**
   * Starts a server without persistence.
   *
   * @throws TestShardsException when {@code redis-server} is missing or does not start in 20 s
   */
  public static TestRedis startEphemeral() {
    return create(false);
  }

  /** Starts a server with an append-only file fsynced on every write (survives {@link #kill}). */
  public static TestRedis startDurable() {
    return create(true);
  }

  private static TestRedis create(boolean durable) {
    String binary = binary();
    try {
      Path dir = Files.createTempDirectory("shardkit-redis-");
      TestRedis redis = new TestRedis(dir, freePort(), durable, binary);
      Runtime.getRuntime().addShutdownHook(new Thread(redis::close));
      redis.start();
      return redis;
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot start redis-server: " + e, e);
    }
  }

  private static String binary() {
    String configured = System.getenv("SHARDKIT_TESTKIT_REDIS_SERVER");
    if (configured != null && !configured.isBlank()) {
      return configured;
    }
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path candidate = Path.of(dir, "redis-server");
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw new TestShardsException(
        "testkit: redis-server is not installed (not on the PATH): install the OS package"
            + " (apt-get install redis-server) or set SHARDKIT_TESTKIT_REDIS_SERVER");
  }

  /**
   * Starts the server (again, after {@link #kill()}) on the same port and directory, and waits
   * until it answers PING (with persistence: until it loaded its append-only file).
   */
  public synchronized void start() {
    if (process != null && process.isAlive()) {
      return;
    }
    List<String> command = new ArrayList<>();
    command.add(binary);
    command.addAll(
        List.of(
            "--port",
            Integer.toString(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            dir.toString(),
            "--save",
            "",
            "--daemonize",
            "no",
            "--protected-mode",
            "no",
            "--logfile",
            dir.resolve("redis.log").toString()));
    if (durable) {
      command.addAll(List.of("--appendonly", "yes", "--appendfsync", "always"));
    } else {
      command.addAll(List.of("--appendonly", "no"));
    }
    try {
      process =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("out.log").toFile()))
              .start();
      long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (System.nanoTime() < end) {
        if (!process.isAlive()) {
          throw new TestShardsException("testkit: redis-server exited: " + tail());
        }
        if ("PONG".equals(command("PING"))) {
          return;
        }
        Thread.sleep(50);
      }
      throw new TestShardsException("testkit: redis-server did not start in 20 s: " + tail());
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot run " + binary + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestShardsException("testkit: interrupted while starting redis-server", e);
    }
  }

  /** SIGKILLs the server; without persistence its data is gone, with it the acknowledged stays. */
  public synchronized void kill() {
    Process p = process;
    if (p == null) {
      return;
    }
    resumeQuietly(p);
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  public synchronized void pause() {
    signal("STOP");
  }

  /** Undoes {@link #pause()} (SIGCONT). */
  public synchronized void resume() {
    signal("CONT");
  }

  /** Whether the process is alive (also when paused). */
  public boolean isRunning() {
    Process p = process;
    return p != null && p.isAlive();
  }

  /** The loopback port, the same across restarts. */
  public int port() {
    return port;
  }

  /** {@code 127.0.0.1}. */
  public String host() {
    return "127.0.0.1";
  }

  /** {@code redis://127.0.0.1:port}, for the Vert.x Redis client's connection string. */
  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /** Whether the server persists every write (append-only file, fsync always). */
  public boolean isDurable() {
    return durable;
  }

  /**
   * Runs one command on a new blocking connection (for test set-up and checks, off the event loop);
   * returns the reply as text: a simple string, an integer, a bulk string (null for nil), or the
   * elements of an array joined by newlines. An error reply is returned as {@code -ERR ...}.
   *
   * @return null when the server does not answer within 2 s (down or paused)
   */
  public String command(String... args) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      socket.setSoTimeout(2000);
      OutputStream out = socket.getOutputStream();
      StringBuilder request = new StringBuilder("*").append(args.length).append("\r\n");
      for (String arg : args) {
        byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
        request.append('$').append(bytes.length).append("\r\n").append(arg).append("\r\n");
      }
      out.write(request.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      return reply(socket.getInputStream());
    } catch (IOException e) {
      return null;
    }
  }

  private static String reply(InputStream in) throws IOException {
    String line = line(in);
    char type = line.charAt(0);
    String rest = line.substring(1);
    switch (type) {
      case '+':
      case ':':
        return rest;
      case '-':
        return line;
      case '$':
        {
          int length = Integer.parseInt(rest);
          if (length < 0) {
            return null;
          }
          byte[] data = in.readNBytes(length + 2);
          return new String(data, 0, length, StandardCharsets.UTF_8);
        }
      case '*':
        {
          int count = Integer.parseInt(rest);
          List<String> items = new ArrayList<>();
          for (int i = 0; i < count; i++) {
            items.add(reply(in));
          }
          return String.join("\n", items);
        }
      default:
        throw new IOException("unexpected reply " + line);
    }
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\r') {
        in.read(); // \n
        return line.toString();
      }
      line.append((char) c);
    }
    throw new IOException("connection closed");
  }

  /** Stops the server and removes its directory. */
  @Override
  public synchronized void close() {
    Process p = process;
    if (p != null) {
      resumeQuietly(p);
      p.destroyForcibly();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory
    }
  }

  private void signal(String signal) {
    Process p = process;
    if (p == null || !p.isAlive()) {
      throw new TestShardsException("testkit: redis-server on port " + port + " is not running");
    }
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new TestShardsException("testkit: kill -" + signal + " failed for redis-server");
      }
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot send SIG" + signal + " to redis-server", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestShardsException("testkit: interrupted", e);
    }
  }

  private static void resumeQuietly(Process p) {
    if (p.isAlive()) {
      try {
        new ProcessBuilder("kill", "-CONT", Long.toString(p.pid()))
            .start()
            .waitFor(5, TimeUnit.SECONDS);
      } catch (IOException e) {
        // it is being killed anyway
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private String tail() {
    try {
      String text =
          Files.readString(dir.resolve("redis.log")) + Files.readString(dir.resolve("out.log"));
      return text.length() > 2000 ? text.substring(text.length() - 2000) : text;
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
