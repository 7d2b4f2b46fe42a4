package io.shardkit.testkit;

import io.shardkit.testkit.impl.EmbeddedProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One primary and {@code n} replicas that follow it through real MariaDB replication (the primary
 * writes a row-based binary log; each replica connects with {@code MASTER_USE_GTID=slave_pos} and
 * applies it). Embedded MariaDB only: replication needs servers whose start options the testkit
 * owns. A private set: {@link #close()} stops the servers and deletes their data.
 *
 * <pre>{@code
 * try (ReplicatedShards set = ReplicatedShards.start(2)) {
 *   set.primary().execute(null, "CREATE DATABASE app");          // arrives on both replicas
 *   set.awaitCaughtUp(Duration.ofSeconds(10));
 *   set.replica(0).stopApplying();                                // replica 0 lags from now on
 * }
 * }</pre>
 */
public final class ReplicatedShards implements AutoCloseable {

  private final EmbeddedProvider provider;
  private final Shard primary;
  private final List<Replica> replicas;

  private ReplicatedShards(EmbeddedProvider provider, Shard primary, List<Replica> replicas) {
    this.provider = provider;
    this.primary = primary;
    this.replicas = List.copyOf(replicas);
  }

  /** Starts a primary and {@code replicas} replicas following it, ready to replicate. */
  public static ReplicatedShards start(int replicas) {
    if (replicas < 1) {
      throw new IllegalArgumentException("testkit: at least one replica, got " + replicas);
    }
    String cache =
        System.getProperty("shardkit.testkit.cache", System.getenv("SHARDKIT_TESTKIT_CACHE"));
    Path cacheRoot =
        cache != null && !cache.isBlank()
            ? Path.of(cache)
            : Path.of(System.getProperty("user.home"), ".cache", "shardkit");
    EmbeddedProvider provider = new EmbeddedProvider(cacheRoot);
    try {
      long begin = System.nanoTime();
      List<Shard> started = provider.startReplicated(replicas);
      System.err.printf(
          "shardkit testkit: a primary and %d replica(s) ready in %d ms%n",
          replicas, (System.nanoTime() - begin) / 1_000_000);
      return new ReplicatedShards(
          provider,
          started.get(0),
          started.subList(1, started.size()).stream().map(Replica.class::cast).toList());
    } catch (RuntimeException e) {
      provider.close();
      throw e;
    }
  }

  /** The server that takes the writes and writes the binary log. */
  public Shard primary() {
    return primary;
  }

  /** The replicas, in start order. */
  public List<Replica> replicas() {
    return replicas;
  }

  public Replica replica(int index) {
    return replicas.get(index);
  }

  /** Waits until every running replica has applied what the primary has written so far. */
  public void awaitCaughtUp(Duration timeout) {
    for (Replica replica : replicas) {
      if (replica.isRunning()) {
        replica.awaitCaughtUp(timeout);
      }
    }
  }

  @Override
  public void close() {
    try {
      provider.close();
    } finally {
      // the blocking helpers' Vert.x: without this a program's JVM would not end by itself
      TestShards.closeVertxIfUnused();
    }
  }
}
