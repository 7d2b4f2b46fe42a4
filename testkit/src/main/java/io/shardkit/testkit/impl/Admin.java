package io.shardkit.testkit.impl;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** Blocking administrative SQL on a shard: a fresh connection per call, text protocol. */
public final class Admin {

  private static final Duration TIMEOUT = Duration.ofMinutes(5);

  private Admin() {}

  public static void execute(MySQLConnectOptions options, String... sql) {
    withConnection(
        options,
        conn -> {
          Future<Void> chain = Future.succeededFuture();
          for (String statement : sql) {
            chain = chain.compose(v -> conn.query(statement).execute().mapEmpty());
          }
          return chain;
        },
        "execute on " + where(options));
  }

  public static List<JsonObject> query(MySQLConnectOptions options, String sql) {
    return withConnection(
        options,
        conn -> conn.query(sql).execute().map(Admin::toJson),
        "query on " + where(options) + ": " + sql);
  }

  /** Whether a login and {@code SELECT 1} succeed within a short connect timeout. */
  public static boolean ping(MySQLConnectOptions options) {
    Future<Void> probe =
        MySQLConnection.connect(TestkitVertx.get(), options)
            .compose(
                conn -> conn.query("SELECT 1").execute().eventually(conn::close).<Void>mapEmpty())
            .timeout(2, TimeUnit.SECONDS);
    try {
      Blocking.await(probe, Duration.ofSeconds(5), "ping");
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static <T> T withConnection(
      MySQLConnectOptions options, Function<SqlConnection, Future<T>> work, String what) {
    Future<T> result =
        MySQLConnection.connect(TestkitVertx.get(), options)
            .compose(
                conn ->
                    work.apply(conn).transform(ar -> conn.close().transform(v -> (Future<T>) ar)));
    return Blocking.await(result, TIMEOUT, what);
  }

  private static List<JsonObject> toJson(RowSet<Row> rows) {
    List<JsonObject> out = new ArrayList<>(rows.size());
    for (Row row : rows) {
      out.add(row.toJson());
    }
    return out;
  }

  private static String where(MySQLConnectOptions options) {
    return options.getHost()
        + ":"
        + options.getPort()
        + (options.getDatabase() == null || options.getDatabase().isEmpty()
            ? ""
            : "/" + options.getDatabase());
  }
}
