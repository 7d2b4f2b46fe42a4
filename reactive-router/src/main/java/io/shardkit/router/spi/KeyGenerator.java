package io.shardkit.router.spi;

/**
 * Generates a key for an INSERT that leaves out the table's key column. Called on the event loop:
 * it must not block. The built-in one is {@code snowflake}.
 */
@FunctionalInterface
public interface KeyGenerator {

  /** The next key (a Long for the built-in generator). */
  Object nextKey();
}
