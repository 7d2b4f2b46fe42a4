package io.shardkit.testkit.impl;

import io.shardkit.testkit.TestShardsException;
import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A PostgreSQL server the testkit does not run ({@code shardkit.testkit.postgres.endpoint} = {@code
 * [user[:password]@]host:port[/database]}). Each {@link #start} creates a fresh database on it
 * ({@code shardkit_pg_<pid>_<n>}, the default database of that {@code TestPostgres}) and {@link
 * #close()} drops it; the server itself is shared, so its faults ({@link #kill()}, {@link
 * #pause()}...) are refused with a {@link TestShardsException}. {@code max_prepared_transactions}
 * is the server's: a start asking for 0 on a server that allows prepared transactions (or the
 * reverse) is refused.
 */
public final class EndpointPostgres implements PgServer {

  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(30);

  /** A parsed endpoint. */
  record Endpoint(String user, String password, String host, int port, String database) {}

  private final Endpoint endpoint;
  private final String database;
  private final int maxPreparedTransactions;

  private EndpointPostgres(Endpoint endpoint, String database, int maxPreparedTransactions) {
    this.endpoint = endpoint;
    this.database = database;
    this.maxPreparedTransactions = maxPreparedTransactions;
  }

  /**
   * Parses {@code [user[:password]@]host:port[/database]} (user {@code postgres}, no password and
   * database {@code postgres} when left out).
   */
  static Endpoint parse(String raw) {
    String item = raw.trim();
    String user = "postgres";
    String password = "";
    int at = item.lastIndexOf('@');
    if (at >= 0) {
      String credentials = item.substring(0, at);
      item = item.substring(at + 1);
      int colon = credentials.indexOf(':');
      user = colon < 0 ? credentials : credentials.substring(0, colon);
      password = colon < 0 ? "" : credentials.substring(colon + 1);
    }
    String database = "postgres";
    int slash = item.indexOf('/');
    if (slash >= 0) {
      database = item.substring(slash + 1);
      item = item.substring(0, slash);
    }
    int colon = item.lastIndexOf(':');
    int port = -1;
    if (colon > 0) {
      try {
        port = Integer.parseInt(item.substring(colon + 1));
      } catch (NumberFormatException e) {
        port = -1;
      }
    }
    if (user.isBlank() || database.isBlank() || port < 1 || port > 65535) {
      throw new TestShardsException(
          "testkit: shardkit.testkit.postgres.endpoint: expected"
              + " [user[:password]@]host:port[/database], got '"
              + (at >= 0 ? "…@" + raw.substring(raw.lastIndexOf('@') + 1) : raw) // no password
              + "'");
    }
    return new Endpoint(user, password, item.substring(0, colon), port, database);
  }

  /** Checks the server's {@code max_prepared_transactions} and creates a fresh database on it. */
  public static EndpointPostgres start(String raw, int maxPreparedTransactions) {
    Endpoint endpoint = parse(raw);
    EndpointPostgres admin = new EndpointPostgres(endpoint, endpoint.database(), 0);
    PgConnectOptions options = PostgresProviders.connectOptions(admin, endpoint.database());
    int actual;
    try {
      actual = Integer.parseInt(run(options, "SHOW max_prepared_transactions").getString(0));
    } catch (RuntimeException e) {
      throw new TestShardsException(
          "testkit: PostgreSQL endpoint "
              + endpoint.host()
              + ":"
              + endpoint.port()
              + " does not answer: "
              + e.getMessage(),
          e);
    }
    if ((actual == 0) != (maxPreparedTransactions == 0)) {
      throw new TestShardsException(
          "testkit: PostgreSQL endpoint "
              + endpoint.host()
              + ":"
              + endpoint.port()
              + " runs max_prepared_transactions = "
              + actual
              + ", the test asked for "
              + maxPreparedTransactions
              + "; an endpoint's setting cannot be changed by the testkit (use the embedded or"
              + " testcontainers provider for this test)");
    }
    String fresh =
        "shardkit_pg_" + ProcessHandle.current().pid() % 100_000 + "_" + COUNTER.incrementAndGet();
    run(options, "DROP DATABASE IF EXISTS " + fresh);
    run(options, "CREATE DATABASE " + fresh);
    return new EndpointPostgres(endpoint, fresh, actual);
  }

  private static Row run(PgConnectOptions options, String sql) {
    Future<Row> result =
        PgConnection.connect(TestkitVertx.get(), options)
            .compose(
                conn ->
                    conn.query(sql)
                        .execute()
                        .map(rows -> rows.iterator().hasNext() ? rows.iterator().next() : null)
                        .eventually(conn::close));
    return Blocking.await(result, QUERY_TIMEOUT, sql);
  }

  @Override
  public String kind() {
    return "endpoint";
  }

  @Override
  public String host() {
    return endpoint.host();
  }

  @Override
  public int port() {
    return endpoint.port();
  }

  @Override
  public String user() {
    return endpoint.user();
  }

  @Override
  public String password() {
    return endpoint.password();
  }

  @Override
  public String database() {
    return database;
  }

  @Override
  public int maxPreparedTransactions() {
    return maxPreparedTransactions;
  }

  @Override
  public String name() {
    return "PostgreSQL endpoint " + host() + ":" + port() + "/" + database;
  }

  @Override
  public boolean controlsProcess() {
    return false;
  }

  @Override
  public long pid() {
    return -1;
  }

  private TestShardsException notControlled(String what) {
    return new TestShardsException(
        "testkit: "
            + what
            + "() needs a server the testkit runs; "
            + name()
            + " is an endpoint (shardkit.testkit.postgres=endpoint): use the embedded or"
            + " testcontainers provider for fault tests");
  }

  @Override
  public void startAgain() {
    // the server runs on its own: nothing to start
  }

  @Override
  public void kill() {
    throw notControlled("kill");
  }

  @Override
  public void stop() {
    throw notControlled("stop");
  }

  @Override
  public void pause() {
    throw notControlled("pause");
  }

  @Override
  public void resume() {
    throw notControlled("resume");
  }

  @Override
  public boolean isRunning() {
    return true;
  }

  /** Drops the database {@link #start} created (best effort: sessions may still use it). */
  @Override
  public void close() {
    try {
      run(
          PostgresProviders.connectOptions(this, endpoint.database()),
          "DROP DATABASE IF EXISTS " + database);
    } catch (RuntimeException ignored) {
      // left for the server's owner; the name says which run made it
    }
  }
}
