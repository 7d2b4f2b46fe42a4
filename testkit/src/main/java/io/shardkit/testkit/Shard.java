package io.shardkit.testkit;

import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import java.util.List;

/**
 * One real MySQL/MariaDB server used as a shard by tests, examples and benchmarks.
 *
 * <p>Blocking methods: they are for test code and must not be called on a Vert.x event loop (they
 * throw {@link IllegalStateException} there). Fault methods ({@link #kill()}, {@link #pause()},
 * ...) are available when {@link #controlsProcess()} is true: embedded MariaDB and Testcontainers
 * shards support them; shards given as external endpoints do not. A {@link #openProxy() proxy}
 * works for every shard.
 */
public interface Shard {

  /** Position of this shard in {@link TestShards#shards()}, from 0. */
  int index();

  /** A short name for logs and messages, e.g. {@code shard-2 (embedded MariaDB 11.4.5 :41523)}. */
  String name();

  String host();

  /** The port clients connect to. It stays the same across {@link #restart()}. */
  int port();

  String user();

  String password();

  /** Connect options for {@code database} on this shard (host, port, user, password). */
  MySQLConnectOptions connectOptions(String database);

  /** Whether this shard's server process can be stopped, killed and paused by the testkit. */
  boolean controlsProcess();

  /** Stops the server gracefully (SIGTERM / docker stop) and waits until it has exited. */
  void stop();

  /** Kills the server with SIGKILL (no shutdown, no flush) and waits until it has exited. */
  void kill();

  /** Starts a stopped or killed server again on the same port with the same data. */
  void start();

  /** {@link #kill()} then {@link #start()}. */
  default void restart() {
    kill();
    start();
  }

  /** Freezes the server (SIGSTOP / docker pause): connections stay open, nothing is answered. */
  void pause();

  /** Undoes {@link #pause()} (SIGCONT / docker unpause). */
  void resume();

  /** Whether the server is running (started and not killed or stopped); a paused one is running. */
  boolean isRunning();

  /** Whether the server is paused. */
  boolean isPaused();

  /**
   * Opens a loopback TCP proxy in front of this shard. Point a client at {@link ShardProxy#port()}
   * to get a connection whose latency and liveness the test controls. The proxy is closed with the
   * shards, or earlier by {@link ShardProxy#close()}.
   */
  ShardProxy openProxy();

  /** Runs each statement in order on {@code database} (null: no default database). Blocking. */
  void execute(String database, String... sql);

  /** Runs one query on {@code database} and returns its rows as JSON objects. Blocking. */
  List<JsonObject> query(String database, String sql);
}
