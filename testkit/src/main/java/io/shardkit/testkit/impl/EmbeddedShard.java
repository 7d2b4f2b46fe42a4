package io.shardkit.testkit.impl;

import io.shardkit.testkit.TestShardsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One embedded MariaDB server: a {@code mariadbd} process run by the testkit on a fixed port with
 * its own data directory, so that it can be killed, paused and restarted with its data.
 */
class EmbeddedShard extends AbstractShard {

  private static final long START_TIMEOUT_MS = 120_000;

  private final EmbeddedMariaDb binaries;
  private final Path dir;
  private final int port;
  private final List<String> extraArgs;
  private Process process;
  private boolean paused;

  EmbeddedShard(int index, EmbeddedMariaDb binaries, Path dir, int port) {
    this(index, binaries, dir, port, List.of());
  }

  /** A server started with {@code extraArgs} after the usual ones (binary log, server id). */
  EmbeddedShard(int index, EmbeddedMariaDb binaries, Path dir, int port, List<String> extraArgs) {
    super(index);
    this.binaries = binaries;
    this.dir = dir;
    this.port = port;
    this.extraArgs = List.copyOf(extraArgs);
  }

  Path dir() {
    return dir;
  }

  /** How messages call this server, e.g. {@code shard-2}. */
  String label() {
    return "shard-" + index();
  }

  /** Creates the data directory from the template. Does not start the server. */
  void prepare() {
    try {
      Files.createDirectories(dir.resolve("tmp"));
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot create " + dir, e);
    }
    binaries.copyTemplateTo(dir.resolve("data"));
  }

  @Override
  public String name() {
    return label() + " (embedded MariaDB " + EmbeddedMariaDb.VERSION + " :" + port + ")";
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
    return "";
  }

  @Override
  public boolean controlsProcess() {
    return true;
  }

  @Override
  public synchronized void start() {
    if (process != null && process.isAlive()) {
      return;
    }
    List<String> command = new ArrayList<>();
    command.add(binaries.mariadbd().toString());
    command.add("--no-defaults");
    command.add("--basedir=" + binaries.baseDir());
    command.add("--datadir=" + dir.resolve("data"));
    command.add("--tmpdir=" + dir.resolve("tmp"));
    command.add("--port=" + port);
    command.add("--bind-address=127.0.0.1");
    command.add("--socket=" + dir.resolve("mysqld.sock"));
    command.add("--pid-file=" + dir.resolve("mariadbd.pid"));
    command.add("--log-error=" + dir.resolve("error.log"));
    if (EmbeddedMariaDb.isRoot()) {
      command.add("--user=root");
    }
    command.add("--character-set-server=utf8mb4");
    command.add("--collation-server=utf8mb4_general_ci");
    command.add("--max-connections=1000");
    command.add("--innodb-buffer-pool-size=128M");
    command.add("--innodb-log-file-size=64M");
    command.add("--performance-schema=OFF");
    // MariaDB 11.4 generates a TLS certificate at every start unless told not to: seconds of CPU
    // (25 s seen on a loaded 2-core machine). Test clients connect without TLS.
    command.add("--skip-ssl");
    command.add("--max-allowed-packet=64M");
    // Durable commits and prepares: the kill -9 tests depend on it.
    command.add("--innodb-flush-log-at-trx-commit=1");
    command.addAll(extraArgs);
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("stdout.log").toFile()));
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot start " + binaries.mariadbd(), e);
    }
    paused = false;
    awaitReady();
  }

  private void awaitReady() {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new TestShardsException(
            "testkit: "
                + name()
                + " exited with "
                + process.exitValue()
                + " while starting:\n"
                + logTail());
      }
      if (Admin.ping(connectOptions(null))) {
        return;
      }
      Blocking.pause(50);
    }
    throw new TestShardsException(
        "testkit: " + name() + " not ready after " + START_TIMEOUT_MS + " ms:\n" + logTail());
  }

  String logTail() {
    try {
      List<String> lines = Files.readAllLines(dir.resolve("error.log"), StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no error log: " + e.getMessage() + ")";
    }
  }

  @Override
  public synchronized void stop() {
    if (process == null || !process.isAlive()) {
      return;
    }
    if (paused) {
      signal("CONT");
      paused = false;
    }
    process.destroy();
    waitForExit();
  }

  @Override
  public synchronized void kill() {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroyForcibly();
    waitForExit();
    paused = false;
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

  @Override
  public synchronized void pause() {
    requireRunning("pause");
    if (!paused) {
      signal("STOP");
      awaitStopped(true);
      paused = true;
    }
  }

  @Override
  public synchronized void resume() {
    requireRunning("resume");
    if (paused) {
      signal("CONT");
      awaitStopped(false);
      paused = false;
    }
  }

  /**
   * A signal is delivered asynchronously: wait until every thread of the server is in the state
   * asked for ('T' in /proc/PID/task/TID/stat), so that a test's next query meets a frozen server.
   */
  private void awaitStopped(boolean stopped) {
    Path tasks = Path.of("/proc", Long.toString(process.pid()), "task");
    long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      if (allThreads(tasks, stopped)) {
        return;
      }
      Blocking.pause(5);
    }
    throw new TestShardsException(
        "testkit: " + name() + " did not " + (stopped ? "stop" : "continue") + " within 10 s");
  }

  private static boolean allThreads(Path tasks, boolean stopped) {
    try (Stream<Path> threads = Files.list(tasks)) {
      return threads.allMatch(
          thread -> {
            try {
              String stat = Files.readString(thread.resolve("stat"));
              char state = stat.charAt(stat.lastIndexOf(')') + 2);
              return (state == 'T' || state == 't') == stopped;
            } catch (IOException e) {
              return true; // the thread ended meanwhile
            }
          });
    } catch (IOException e) {
      return true; // no /proc (not Linux): trust the signal
    }
  }

  @Override
  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  @Override
  public synchronized boolean isPaused() {
    return paused;
  }

  private void requireRunning(String what) {
    if (process == null || !process.isAlive()) {
      throw new IllegalStateException("testkit: cannot " + what + " " + name() + ": not running");
    }
  }

  private void signal(String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
              .redirectErrorStream(true)
              .start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new TestShardsException("testkit: kill -" + signal + " failed for " + name());
      }
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot send SIG" + signal + " to " + name(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestShardsException("testkit: interrupted", e);
    }
  }

  /** Kills the server for good (data is thrown away with the directory). */
  synchronized void destroy() {
    closeProxies();
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      waitForExit();
    }
  }
}
