package io.shardkit.router.spi;

import io.shardkit.router.ShardedPool;

/**
 * Creates the {@link ShardedPool} implementation from a validated builder. shardkit ships the only
 * implementation (found through {@link java.util.ServiceLoader}); this seam keeps the API package
 * free of implementation imports.
 */
public interface ShardedPoolFactory {

  ShardedPool create(ShardedPool.Builder builder);
}
