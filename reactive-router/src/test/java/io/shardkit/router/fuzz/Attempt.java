package io.shardkit.router.fuzz;

import io.shardkit.context.ShardkitException;
import io.vertx.core.Future;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One execution of a statement on a client: its result, or its error, and whether the error was
 * thrown by the call instead of failing the Future.
 */
record Attempt(QueryResult result, Throwable error, boolean thrown) {

  static Attempt run(SqlClient client, String sql, List<Object> params, boolean prepared) {
    Future<RowSet<Row>> future;
    try {
      if (prepared) {
        future = client.preparedQuery(sql).execute(tuple(params));
      } else {
        future = client.query(sql).execute();
      }
    } catch (RuntimeException e) {
      return new Attempt(null, e, true);
    }
    try {
      return new Attempt(QueryResult.of(Await.result(future, sql)), null, false);
    } catch (RuntimeException e) {
      return new Attempt(null, e, false);
    }
  }

  static Tuple tuple(List<Object> params) {
    Tuple tuple = Tuple.tuple();
    params.forEach(p -> tuple.addValue(SqlText.parameter(p)));
    return tuple;
  }

  /**
   * {@link #run} on a thread of its own, abandoned after {@code seconds}: a router that loops on
   * the caller's thread (route computation is synchronous) must not stop the fuzzer. The looping
   * thread is stopped, the only way to end a busy loop from outside in Java 17.
   */
  @SuppressWarnings({"deprecation", "removal"})
  static Attempt guarded(
      SqlClient client, String sql, List<Object> params, boolean prepared, long seconds) {
    FutureTask<Attempt> task = new FutureTask<>(() -> run(client, sql, params, prepared));
    Thread thread = new Thread(task, "fuzz-router-call");
    thread.setDaemon(true);
    thread.start();
    try {
      return task.get(seconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      String where = stackTop(thread);
      thread.stop();
      return new Attempt(
          null, new RouterHangException("no answer within " + seconds + " s, at " + where), true);
    } catch (ExecutionException e) {
      return new Attempt(null, e.getCause(), true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static String stackTop(Thread thread) {
    StackTraceElement[] stack = thread.getStackTrace();
    return stack.length == 0 ? "?" : stack[0].toString();
  }

  boolean failed() {
    return error != null;
  }

  /** A typed refusal: a failed Future with one of shardkit's own exceptions. */
  boolean refused() {
    return error instanceof ShardkitException && !thrown;
  }

  boolean databaseError() {
    return error instanceof DatabaseException && !thrown;
  }

  /** The refusal reason as a category: class and message prefix, values replaced. */
  String refusalReason() {
    String m = String.valueOf(error.getMessage()).strip();
    int nl = m.indexOf('\n');
    m = nl < 0 ? m : m.substring(0, nl);
    m = m.replaceAll("\\([^()]*\\)", "(…)").replaceAll("\\([^()]*\\)", "(…)");
    m = m.replaceAll("\\[[^]]*]", "[…]");
    m = m.replaceAll("'[^']*'", "'…'").replaceAll("`[^`]*`", "`…`").replaceAll("\\d+", "N");
    m = m.replaceAll("\\b(t_[a-z_]+|ds_N)\\b", "T");
    int colon = m.indexOf(": ");
    if (colon > 20) {
      m = m.substring(0, colon);
    }
    return error.getClass().getSimpleName() + ": " + (m.length() > 90 ? m.substring(0, 90) : m);
  }

  String describeError() {
    String m = String.valueOf(error.getMessage()).strip();
    int nl = m.indexOf('\n');
    return error.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
  }

  /** The mismatch class of an unexpected router error. */
  String errorKind() {
    if (error instanceof RouterHangException) {
      return "router hang";
    }
    if (thrown) {
      return "threw instead of failing the Future: " + error.getClass().getSimpleName();
    }
    if (error instanceof DatabaseException d) {
      return "router driver error " + d.getErrorCode() + " the reference did not raise";
    }
    return "router exception " + error.getClass().getSimpleName();
  }
}
