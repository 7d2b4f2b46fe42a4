package io.shardkit.testkit.impl;

import io.shardkit.testkit.Shard;
import io.shardkit.testkit.TestShardsException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Embedded MariaDB shards, each its own {@code mariadbd} process, started in parallel.
 *
 * <p>A watchdog shell process kills this JVM's servers and removes their directories if the JVM
 * dies without running its shutdown hooks (e.g. a build killed by a timeout), so no orphaned server
 * outlives the tests.
 */
public final class EmbeddedProvider implements ShardProvider {

  private final EmbeddedMariaDb binaries;
  private final Path root;
  private final List<EmbeddedShard> shards = new CopyOnWriteArrayList<>();
  private final Process watchdog;
  private final List<String> extraArgs;

  public EmbeddedProvider(Path cacheRoot) {
    this(cacheRoot, List.of());
  }

  /** Shards started with {@code extraArgs} (e.g. a binary log) after the usual options. */
  public EmbeddedProvider(Path cacheRoot, List<String> extraArgs) {
    this.extraArgs = List.copyOf(extraArgs);
    this.binaries = EmbeddedMariaDb.prepare(cacheRoot);
    try {
      this.root =
          Files.createTempDirectory("shardkit-shards-" + ProcessHandle.current().pid() + "-");
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot create a temporary directory", e);
    }
    this.watchdog = startWatchdog(root);
  }

  @Override
  public String kind() {
    return "embedded";
  }

  @Override
  public List<Shard> start(int firstIndex, int count) {
    List<EmbeddedShard> started = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int index = firstIndex + i;
      started.add(
          new EmbeddedShard(
              index, binaries, root.resolve("shard-" + index), freePort(), extraArgs));
    }
    shards.addAll(started);
    startAll(started, "testkit: starting shards failed");
    return new ArrayList<>(started);
  }

  /** Prepares and starts the servers in parallel; the first failure is thrown. */
  private static void startAll(List<EmbeddedShard> servers, String what) {
    List<CompletableFuture<Void>> starting = new ArrayList<>();
    for (EmbeddedShard shard : servers) {
      starting.add(
          CompletableFuture.runAsync(
              () -> {
                shard.prepare();
                shard.start();
              }));
    }
    try {
      CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new)).join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r
          ? r
          : new TestShardsException(what, e.getCause());
    }
  }

  /**
   * Starts a primary (row-based binary log, server id 1) and {@code replicas} replicas (server ids
   * 2..) that follow it; the first element is the primary. Indices continue after the shards this
   * provider already started.
   */
  public List<Shard> startReplicated(int replicas) {
    int base = shards.size();
    EmbeddedShard primary =
        new EmbeddedShard(
            base,
            binaries,
            root.resolve("shard-" + base),
            freePort(),
            List.of("--server-id=1", "--log-bin=binlog", "--binlog-format=ROW"));
    shards.add(primary);
    List<EmbeddedShard> all = new ArrayList<>();
    all.add(primary);
    for (int r = 1; r <= replicas; r++) {
      int index = base + r;
      EmbeddedReplica replica =
          new EmbeddedReplica(
              index,
              r,
              binaries,
              root.resolve("shard-" + index),
              freePort(),
              List.of("--server-id=" + (r + 1), "--relay-log=relay", "--log-slave-updates=OFF"),
              primary);
      shards.add(replica);
      all.add(replica);
    }
    startAll(all, "testkit: starting replicated shards failed");
    for (EmbeddedShard shard : all) {
      if (shard instanceof EmbeddedReplica replica) {
        replica.follow();
      }
    }
    return new ArrayList<>(all);
  }

  @Override
  public void close() {
    for (EmbeddedShard shard : shards) {
      shard.destroy();
    }
    shards.clear();
    EmbeddedMariaDb.deleteTree(root);
    watchdog.destroy();
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new TestShardsException("testkit: no free port", e);
    }
  }

  private static Process startWatchdog(Path root) {
    long jvm = ProcessHandle.current().pid();
    String script =
        "while kill -0 "
            + jvm
            + " 2>/dev/null; do sleep 1; done; "
            + "for f in '"
            + root
            + "'/shard-*/mariadbd.pid; do [ -f \"$f\" ] && kill -9 $(cat \"$f\") 2>/dev/null; done; "
            + "sleep 1; rm -rf '"
            + root
            + "'";
    try {
      return new ProcessBuilder("sh", "-c", script)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
    } catch (IOException e) {
      throw new TestShardsException("testkit: cannot start the shard watchdog", e);
    }
  }
}
