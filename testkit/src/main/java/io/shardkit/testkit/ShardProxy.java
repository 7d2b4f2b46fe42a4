package io.shardkit.testkit;

import java.time.Duration;

/**
 * A loopback TCP proxy in front of a shard, for fault tests: it adds latency to every chunk in both
 * directions (order preserved), freezes traffic, drops live connections or refuses new ones.
 */
public interface ShardProxy extends AutoCloseable {

  /** The shard behind this proxy. */
  Shard shard();

  String host();

  /** The local port to connect to instead of the shard's. */
  int port();

  /** Connect options that go through this proxy (same user and password as the shard). */
  io.vertx.mysqlclient.MySQLConnectOptions connectOptions(String database);

  /** Delays every chunk of bytes, in each direction, by {@code latency}. Zero removes it. */
  ShardProxy latency(Duration latency);

  /** Stops forwarding in both directions (bytes wait in TCP buffers) until {@link #unfreeze()}. */
  ShardProxy freeze();

  ShardProxy unfreeze();

  /** Closes every connection that is open through the proxy, both sides. */
  ShardProxy dropConnections();

  /** When true, new connections are accepted and closed at once. */
  ShardProxy refuseConnections(boolean refuse);

  /** Number of connections currently open through the proxy. */
  int openConnections();

  @Override
  void close();
}
