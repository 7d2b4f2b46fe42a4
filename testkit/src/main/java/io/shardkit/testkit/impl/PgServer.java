package io.shardkit.testkit.impl;

/**
 * One PostgreSQL server behind {@link io.shardkit.testkit.TestPostgres}: embedded binaries ({@link
 * EmbeddedPostgres}), a Testcontainers container ({@link ContainerPostgres}) or an external server
 * ({@link EndpointPostgres}). Every method blocks.
 */
public interface PgServer {

  /** {@code embedded}, {@code testcontainers} or {@code endpoint}. */
  String kind();

  String host();

  int port();

  String user();

  String password();

  /** The database tests use by default. */
  String database();

  /** {@code max_prepared_transactions} as the server runs it. */
  int maxPreparedTransactions();

  /** For messages, e.g. {@code PostgreSQL 14.22.0 :41523}. */
  String name();

  /** Whether {@link #kill}, {@link #pause} and friends act on the server (not on an endpoint). */
  boolean controlsProcess();

  /** The server's process id on this machine, or -1 when not running or not known. */
  long pid();

  void startAgain();

  void kill();

  void stop();

  void pause();

  void resume();

  boolean isRunning();

  /** Stops the server and deletes its data (an endpoint: drops what the testkit created). */
  void close();
}
