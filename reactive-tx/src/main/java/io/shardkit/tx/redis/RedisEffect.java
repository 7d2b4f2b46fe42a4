package io.shardkit.tx.redis;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A side effect on Redis that must follow a commit: evict or refresh a cached value, publish a
 * notification. Recorded in the transaction with {@link RedisEffects#afterCommit} and run by the
 * outbox relay once the transaction committed, retried until Redis answers. Every kind but {@link
 * #publish} is idempotent, so a redelivery changes nothing.
 *
 * <p>For a cache that readers also fill (read-through), use the versioned forms ({@link
 * #evict(String, String, long)}, {@link #refresh}) with {@link VersionedCache#putIfNewer} on the
 * read side: a reader that read the row before a commit can then never put its older value back
 * over the commit's effect, whatever order they reach Redis in.
 */
public final class RedisEffect {

  /** What the effect does. */
  public enum Kind {
    /** {@code DEL} of the keys. */
    DELETE,
    /** A versioned eviction: a tombstone at the version unless a newer value is cached. */
    EVICT_VERSION,
    /** A versioned refresh: the value at the version unless a newer one is cached. */
    REFRESH,
    /** {@code PUBLISH} on a channel (at least once: a redelivery publishes again). */
    PUBLISH
  }

  private final String source;
  private final Kind kind;
  private final List<String> keys;
  private final List<String> args;

  private RedisEffect(String source, Kind kind, List<String> keys, List<String> args) {
    if (source == null || source.isBlank()) {
      throw new RedisStepConfigurationException(
          null, source, "a Redis effect needs a Redis source name");
    }
    this.source = source;
    this.kind = kind;
    this.keys = List.copyOf(keys);
    this.args = List.copyOf(args);
  }

  /** Deletes {@code keys} (idempotent). */
  public static RedisEffect evict(String source, String... keys) {
    if (keys.length == 0) {
      throw new IllegalArgumentException("evict needs at least one key");
    }
    return new RedisEffect(source, Kind.DELETE, List.of(keys), List.of());
  }

  /**
   * Evicts {@code key} as of {@code version} (the row's version the transaction committed): leaves
   * a tombstone at that version, unless a value of that version or newer is cached. Readers treat a
   * tombstone as a miss and {@link VersionedCache#putIfNewer} refuses versions older than it.
   */
  public static RedisEffect evict(String source, String key, long version) {
    return new RedisEffect(
        source, Kind.EVICT_VERSION, List.of(key), List.of(Long.toString(version)));
  }

  /** Caches {@code value} at {@code version} unless a newer version is cached (idempotent). */
  public static RedisEffect refresh(String source, String key, long version, String value) {
    return new RedisEffect(
        source,
        Kind.REFRESH,
        List.of(key),
        List.of(Long.toString(version), Objects.requireNonNull(value, "value")));
  }

  /** Publishes {@code message} on {@code channel}: at least once. */
  public static RedisEffect publish(String source, String channel, String message) {
    return new RedisEffect(
        source, Kind.PUBLISH, List.of(channel), List.of(Objects.requireNonNull(message)));
  }

  public String source() {
    return source;
  }

  public Kind kind() {
    return kind;
  }

  public List<String> keys() {
    return keys;
  }

  public List<String> args() {
    return args;
  }

  JsonObject toJson() {
    return new JsonObject()
        .put("source", source)
        .put("kind", kind.name())
        .put("keys", new JsonArray(new ArrayList<>(keys)))
        .put("args", new JsonArray(new ArrayList<>(args)));
  }

  static RedisEffect fromJson(JsonObject json) {
    List<String> keys = new ArrayList<>();
    json.getJsonArray("keys").forEach(k -> keys.add((String) k));
    List<String> args = new ArrayList<>();
    json.getJsonArray("args").forEach(a -> args.add((String) a));
    return new RedisEffect(
        json.getString("source"), Kind.valueOf(json.getString("kind")), keys, args);
  }

  @Override
  public String toString() {
    return kind + " " + keys + " on " + source;
  }
}
