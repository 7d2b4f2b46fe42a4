package io.shardkit.tx.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.List;

/**
 * A cache of versioned values in one Redis source, for read-through readers alongside the {@link
 * RedisEffect#evict(String, String, long) versioned effects} of writers. An entry is a hash: {@code
 * v} (the row version it holds) and {@code val} (the value; absent in a tombstone left by a
 * versioned eviction). {@link #putIfNewer} only ever moves an entry to a newer version, so once
 * every committed effect has run, an entry holds the latest committed version or a tombstone: never
 * an older value, whatever the interleaving of readers, writers, retries and Redis restarts (with
 * persistence; without it, give entries a time to live to bound what a restart can bring back).
 */
public final class VersionedCache {

  static final String PUT =
      String.join(
          "\n",
          "local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '-1')",
          "local want = tonumber(ARGV[1])",
          "if v > want then return 0 end",
          "if v == want and redis.call('HEXISTS', KEYS[1], 'val') == 1 then return 0 end",
          "redis.call('HSET', KEYS[1], 'v', ARGV[1], 'val', ARGV[2])",
          "if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end",
          "return 1");

  static final String EVICT =
      String.join(
          "\n",
          "local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '-1')",
          "local want = tonumber(ARGV[1])",
          "if v >= want then return 0 end",
          "redis.call('HSET', KEYS[1], 'v', ARGV[1])",
          "redis.call('HDEL', KEYS[1], 'val')",
          "return 1");

  static final String PUT_SHA = FenceScript.sha1(PUT);
  static final String EVICT_SHA = FenceScript.sha1(EVICT);

  private final RedisSources sources;
  private final RedisSources.Source source;
  private final Duration ttl;

  private VersionedCache(RedisSources sources, String source, Duration ttl) {
    this.sources = sources;
    this.source = sources.source(null, source);
    this.ttl = ttl;
  }

  /**
   * The cache in {@code source}; entries a reader puts live {@code ttl} (null or zero: no expiry).
   */
  public static VersionedCache of(RedisSources sources, String source, Duration ttl) {
    return new VersionedCache(sources, source, ttl);
  }

  /** The cached value, or null on a miss (absent or a tombstone). */
  public Future<String> get(String key) {
    return sources
        .send(source, Request.cmd(Command.HGET).arg(key).arg("val"), "cache-get", "cache")
        .map(r -> r == null ? null : r.toString());
  }

  /** The cached version and value ({@code [version, value]}, value null for a tombstone). */
  public Future<List<String>> entry(String key) {
    return sources
        .send(source, Request.cmd(Command.HMGET).arg(key).arg("v").arg("val"), "cache-get", "cache")
        .map(
            r ->
                java.util.Arrays.asList(
                    r.get(0) == null ? null : r.get(0).toString(),
                    r.get(1) == null ? null : r.get(1).toString()));
  }

  /**
   * Caches {@code value} read at row version {@code version}, unless the entry already holds a
   * newer version (or a value of this one). Succeeds with whether it was stored.
   */
  public Future<Boolean> putIfNewer(String key, long version, String value) {
    long ttlMillis = ttl == null ? 0 : ttl.toMillis();
    return script(
            sources,
            source,
            PUT_SHA,
            PUT,
            List.of(key),
            List.of(Long.toString(version), value, Long.toString(ttlMillis)),
            "cache-put",
            "cache")
        .map(r -> r != null && r.toInteger() == 1);
  }

  /** EVALSHA, then EVAL when the server does not have the script (after a restart). */
  static Future<Response> script(
      RedisSources sources,
      RedisSources.Source source,
      String sha,
      String text,
      List<String> keys,
      List<String> args,
      String kind,
      String summary) {
    return sources
        .send(source, RedisSources.eval(Command.EVALSHA, sha, keys, args), kind, summary)
        .recover(
            failure ->
                RedisSources.isErrorReply(failure)
                        && String.valueOf(failure.getMessage()).startsWith("NOSCRIPT")
                    ? sources.send(
                        source, RedisSources.eval(Command.EVAL, text, keys, args), kind, summary)
                    : Future.failedFuture(failure));
  }
}
