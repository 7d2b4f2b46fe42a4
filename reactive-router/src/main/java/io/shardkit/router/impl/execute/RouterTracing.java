package io.shardkit.router.impl.execute;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.shardkit.router.impl.route.Plan;
import io.vertx.core.AsyncResult;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Spans of the router: one per logical statement (the route decision as attributes) and one per
 * shard execution under it (OpenTelemetry database semantic conventions). The statement span's
 * parent is the current span, else the transaction scope's trace context, so a statement run in a
 * callback of a transaction still lands under the transaction's span. No SQL text is recorded: the
 * query summary is the operation and the logical tables, so no literal value can leak.
 */
final class RouterTracing {

  static final AttributeKey<String> DB_SYSTEM = AttributeKey.stringKey("db.system.name");
  static final AttributeKey<String> DB_NAMESPACE = AttributeKey.stringKey("db.namespace");
  static final AttributeKey<String> DB_OPERATION = AttributeKey.stringKey("db.operation.name");
  static final AttributeKey<String> DB_SUMMARY = AttributeKey.stringKey("db.query.summary");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> SHARD = AttributeKey.stringKey("shardkit.shard");
  static final AttributeKey<String> ROUTE = AttributeKey.stringKey("shardkit.route");
  static final AttributeKey<Long> FANOUT = AttributeKey.longKey("shardkit.fanout");
  static final AttributeKey<Long> UNITS = AttributeKey.longKey("shardkit.units");
  static final AttributeKey<List<String>> SHARDS = AttributeKey.stringArrayKey("shardkit.shards");
  static final AttributeKey<Long> ROWS = AttributeKey.longKey("db.response.returned_rows");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private final Tracer tracer;
  private final Map<String, MySQLConnectOptions> connects;

  RouterTracing(Tracer tracer, Map<String, MySQLConnectOptions> connects) {
    this.tracer = tracer;
    this.connects = connects;
  }

  /** The statement span, started; its context parents the shard spans. */
  Span statement(Rewriter.Routed routed) {
    Optional<TxContext> tx = TxScope.current();
    // named once we know it records: no string is built per statement when tracing is off
    Span span =
        tracer
            .spanBuilder("shardkit statement")
            .setParent(parent(tx))
            .setSpanKind(SpanKind.INTERNAL)
            .startSpan();
    if (!span.isRecording()) {
      return span;
    }
    Plan plan = routed.plan();
    String operation = operation(plan);
    span.updateName(summary(operation, plan));
    List<SqlUnit> units = routed.units();
    Set<String> shards = new LinkedHashSet<>();
    for (SqlUnit u : units) {
      shards.add(u.dataSource());
    }
    span.setAttribute(DB_SYSTEM, "mysql")
        .setAttribute(DB_OPERATION, operation)
        .setAttribute(DB_SUMMARY, summary(operation, plan))
        .setAttribute(ROUTE, units.size() == 1 ? "single" : "scatter")
        .setAttribute(FANOUT, (long) shards.size())
        .setAttribute(UNITS, (long) units.size())
        .setAttribute(SHARDS, new ArrayList<>(shards));
    tx.ifPresent(t -> span.setAttribute(TxContext.GLOBAL_ID_ATTRIBUTE, t.globalId()));
    return span;
  }

  /** A shard-execution span under {@code statement}. */
  Span unit(Span statement, Rewriter.Routed routed, SqlUnit unit) {
    if (!statement.isRecording()) {
      return Span.getInvalid();
    }
    Plan plan = routed.plan();
    String operation = operation(plan);
    String summary = summary(operation, plan);
    Span span =
        tracer
            .spanBuilder(summary)
            .setParent(Context.root().with(statement))
            .setSpanKind(SpanKind.CLIENT)
            .startSpan();
    span.setAttribute(DB_SYSTEM, "mysql")
        .setAttribute(DB_OPERATION, operation)
        .setAttribute(DB_SUMMARY, summary)
        .setAttribute(SHARD, unit.dataSource());
    MySQLConnectOptions connect = connects.get(unit.dataSource());
    if (connect != null) {
      if (connect.getDatabase() != null) {
        span.setAttribute(DB_NAMESPACE, connect.getDatabase());
      }
      span.setAttribute(SERVER_ADDRESS, connect.getHost())
          .setAttribute(SERVER_PORT, (long) connect.getPort());
    }
    TxScope.current()
        .ifPresent(t -> span.setAttribute(TxContext.GLOBAL_ID_ATTRIBUTE, t.globalId()));
    return span;
  }

  static void end(Span span, AsyncResult<RowSet<Row>> ar) {
    if (!span.isRecording()) {
      return;
    }
    if (ar.failed()) {
      span.recordException(ar.cause());
      span.setAttribute(ERROR_TYPE, ar.cause().getClass().getName());
      span.setStatus(StatusCode.ERROR);
    } else {
      span.setAttribute(ROWS, (long) ar.result().size());
    }
    span.end();
  }

  static void fail(Span span, Throwable cause) {
    if (span.isRecording()) {
      span.recordException(cause);
      span.setAttribute(ERROR_TYPE, cause.getClass().getName());
      span.setStatus(StatusCode.ERROR);
      span.end();
    }
  }

  private static Context parent(Optional<TxContext> tx) {
    Context current = Context.current();
    if (Span.fromContext(current).getSpanContext().isValid() || tx.isEmpty()) {
      return current;
    }
    return tx.get().traceContext();
  }

  /** {@code SELECT}, {@code INSERT}, ...; for DDL the first two words ({@code CREATE TABLE}). */
  static String operation(Plan plan) {
    if (plan.kind() != Plan.Kind.DDL) {
      return plan.kind().name();
    }
    String[] words = plan.sql().trim().split("\\s+", 3);
    String op = words[0].toUpperCase(Locale.ROOT);
    if (words.length > 1 && !op.equals("TRUNCATE")) {
      op += " " + words[1].toUpperCase(Locale.ROOT);
    }
    return op;
  }

  private static String summary(String operation, Plan plan) {
    return plan.tables().isEmpty() ? operation : operation + " " + String.join(" ", plan.tables());
  }
}
