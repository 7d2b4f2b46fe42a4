package io.shardkit.router.spi;

import io.vertx.core.json.JsonObject;

/**
 * Creates {@link KeyGenerator}s of one type name (rule JSON {@code "keyGenerator": {"type": ...}}).
 * Registered like {@link ShardingAlgorithmFactory}: on the rules builder or through {@code
 * java.util.ServiceLoader}.
 */
public interface KeyGeneratorFactory {

  /** The type name, e.g. {@code "snowflake"}; compared case-insensitively. */
  String type();

  /** Creates a generator; reject invalid properties with an {@link IllegalArgumentException}. */
  KeyGenerator create(JsonObject props);
}
