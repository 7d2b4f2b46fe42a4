package io.shardkit.router.impl.execute;

import io.shardkit.router.ShardedRowStream;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.analyse.MergeSpec;
import io.shardkit.router.impl.merge.ResultMerger;
import io.shardkit.router.impl.merge.RowOrder;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A streaming k-way merge over one cursor per route unit (the units of a data source share one
 * connection). Each unit holds at most one fetched batch; the next batch of a unit is read only
 * when its previous one is used up and that unit's next row is needed, so at most units × fetchSize
 * rows are in memory. Rows are emitted only while there is demand ({@link #fetch}, {@link
 * #resume}). Everything runs on the opening context.
 */
final class MergingRowStream implements ShardedRowStream {

  private final Context context;
  private final List<Source> sources;
  private final int fetchSize;
  private final MergeSpec spec;
  private long skip;
  private long remaining;
  private long demand = Long.MAX_VALUE;
  private Handler<Row> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;
  private boolean emitting;
  private boolean again;
  private boolean finished;
  private int buffered;
  private int highWaterMark;
  private UnaryOperator<Row> projector;
  private final Runnable onFinished;
  private final Rewriter.Routed routed;

  /** Completed when the stream finished (ended, failed, closed): its scope stops watching it. */
  private final io.vertx.core.Promise<Void> ended = io.vertx.core.Promise.promise();

  private static final class Source {
    final SqlConnection connection;
    final PreparedStatement statement;
    final Cursor cursor;
    Iterator<Row> batch;
    Row head;
    boolean reading;
    boolean done;

    Source(SqlConnection connection, PreparedStatement statement, Cursor cursor) {
      this.connection = connection;
      this.statement = statement;
      this.cursor = cursor;
    }
  }

  private MergingRowStream(
      Context context,
      List<Source> sources,
      Rewriter.Routed routed,
      long offset,
      long limit,
      int fetchSize,
      Runnable onFinished) {
    this.onFinished = onFinished;
    this.routed = routed;
    MergeSpec spec = routed.merge();
    this.context = context;
    this.sources = sources;
    this.spec = spec;
    this.fetchSize = fetchSize;
    this.skip = offset;
    this.remaining = limit < 0 ? Long.MAX_VALUE : limit;
  }

  static Future<ShardedRowStream> open(
      Vertx vertx,
      StatementRunner runner,
      java.util.function.BiFunction<
              String, Rewriter.Routed, Future<io.vertx.sqlclient.SqlConnection>>
          connect,
      java.util.function.Consumer<Rewriter.Routed> admit,
      String sql,
      Tuple params,
      int fetchSize,
      Runnable onFinished) {
    Context context = vertx.getOrCreateContext();
    Rewriter.Routed routed;
    try {
      if (fetchSize < 1) {
        throw new IllegalArgumentException("fetchSize must be at least 1, got " + fetchSize);
      }
      routed = runner.route(sql, params == null ? Tuple.tuple() : params);
      runner.checkAvailable(routed);
      if (routed.write()) {
        throw new UnsupportedSqlException(
            List.of(), "stream() reads only: use preparedQuery for writes");
      }
      if (routed.union() != null) {
        throw new UnsupportedSqlException(
            List.of(),
            "stream() does not merge a UNION whose branches run on different data nodes; use"
                + " preparedQuery");
      }
      if (routed.merge() != null && !routed.merge().isPlain()) {
        throw new UnsupportedSqlException(
            List.of(),
            "stream() merges ORDER BY and LIMIT only; GROUP BY, aggregates and DISTINCT across data nodes need preparedQuery");
      }
      admit.accept(routed); // refused here, before any connection is asked for
    } catch (RuntimeException e) {
      return StatementRunner.onCaller(context, Future.failedFuture(e));
    }
    // Opened inside a transaction scope, the stream lives no longer than it: at the deadline it
    // fails with ShardkitTimeoutException and gives its connections back, opened or still opening.
    java.util.Optional<io.shardkit.context.TxContext> scope = io.shardkit.context.TxScope.current();
    java.util.concurrent.atomic.AtomicReference<MergingRowStream> made =
        new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicReference<Throwable> expired =
        new java.util.concurrent.atomic.AtomicReference<>();
    io.vertx.core.Promise<Void> lifetime = io.vertx.core.Promise.promise();
    if (scope.isPresent()) {
      io.shardkit.context.TxContext tx = scope.get();
      long openedAt = System.nanoTime();
      long budget = tx.deadline().remainingNanos();
      io.shardkit.context.TxScope.bound(
          lifetime.future(),
          () ->
              expire(
                  tx.deadline().isExpired()
                      ? new io.shardkit.context.ShardkitTimeoutException(
                          tx.globalId(),
                          java.time.Duration.ofNanos(System.nanoTime() - openedAt),
                          java.time.Duration.ofNanos(Math.max(0, budget)),
                          "reading a stream",
                          null)
                      : new io.shardkit.context.ShardkitException(
                          "global transaction "
                              + tx.globalId()
                              + ": its scope ended while a stream it opened was still open; the"
                              + " stream is closed with it (read it to its end inside the scope)"),
                  expired,
                  made,
                  context));
    }

    List<Future<List<Source>>> opening = new ArrayList<>();
    for (Map.Entry<String, List<SqlUnit>> group : byDataSource(routed.units()).entrySet()) {
      opening.add(
          connect
              .apply(group.getKey(), routed)
              .compose(conn -> openCursors(conn, group.getValue())));
    }
    Future<ShardedRowStream> result =
        Future.join(opening)
            .transform(
                ar -> {
                  List<Source> sources = new ArrayList<>();
                  for (Future<List<Source>> f : opening) {
                    if (f.succeeded()) {
                      sources.addAll(f.result());
                    }
                  }
                  if (ar.failed()) {
                    closeAll(sources);
                    lifetime.tryComplete();
                    return Future.failedFuture(ar.cause());
                  }
                  MergingRowStream stream =
                      new MergingRowStream(
                          context,
                          sources,
                          routed,
                          routed.offset(),
                          routed.limit(),
                          fetchSize,
                          onFinished);
                  stream.ended.future().onComplete(v -> lifetime.tryComplete());
                  made.set(stream);
                  if (expired.get() != null) {
                    // the deadline passed while it opened: the caller has its timeout (finished
                    // on the stream's context, as everything of the stream, so only once)
                    Throwable late = expired.get();
                    context.runOnContext(v -> stream.finish(late));
                    return Future.failedFuture(expired.get());
                  }
                  return Future.succeededFuture(stream);
                });
    Future<ShardedRowStream> answered = StatementRunner.onCaller(context, result);
    // the caller hears by the deadline, also while the stream still opens
    return scope.isPresent() ? io.shardkit.context.TxScope.bound(answered, null) : answered;
  }

  /** The stream's scope ended (deadline, or closed): the stream, once made, finishes with it. */
  private static void expire(
      Throwable why,
      java.util.concurrent.atomic.AtomicReference<Throwable> expired,
      java.util.concurrent.atomic.AtomicReference<MergingRowStream> made,
      Context context) {
    expired.set(why);
    MergingRowStream stream = made.get();
    if (stream != null) {
      context.runOnContext(v -> stream.finish(why));
    }
  }

  /**
   * The units grouped by data source, in route order. All units of a data source share one
   * connection, each with its own prepared statement and cursor: a pool smaller than the number of
   * units on its data source (table sharding: one unit per actual table) must not leave cursors
   * waiting for connections that the merge, needing every unit's head row, never gives back.
   */
  static Map<String, List<SqlUnit>> byDataSource(List<SqlUnit> units) {
    Map<String, List<SqlUnit>> out = new LinkedHashMap<>();
    for (SqlUnit unit : units) {
      out.computeIfAbsent(unit.dataSource(), k -> new ArrayList<>()).add(unit);
    }
    return out;
  }

  /** Opens the units' cursors one after the other on one connection; closes it if one fails. */
  private static Future<List<Source>> openCursors(SqlConnection conn, List<SqlUnit> units) {
    List<Source> opened = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (SqlUnit unit : units) {
      Tuple unitParams = unit.params() == null ? Tuple.tuple() : unit.params();
      chain =
          chain.compose(
              v ->
                  conn.prepare(unit.sql())
                      .map(
                          ps -> {
                            opened.add(new Source(conn, ps, ps.cursor(unitParams)));
                            return null;
                          }));
    }
    return chain
        .<List<Source>>map(v -> opened)
        .recover(
            e -> closeAll(opened).eventually(conn::close).transform(ar -> Future.failedFuture(e)));
  }

  private Comparator<Row> order(
      int width, List<io.vertx.sqlclient.desc.ColumnDescriptor> descriptors) {
    if (spec == null || spec.orderBy().isEmpty()) {
      return (a, b) -> 0;
    }
    return RowOrder.of(spec.orderBy(), width - spec.derivedCount(), descriptors);
  }

  @Override
  public ShardedRowStream exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    return this;
  }

  @Override
  public ShardedRowStream handler(Handler<Row> handler) {
    this.handler = handler;
    if (handler != null) {
      schedule();
    }
    return this;
  }

  @Override
  public ShardedRowStream pause() {
    demand = 0;
    return this;
  }

  @Override
  public ShardedRowStream resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public ShardedRowStream fetch(long amount) {
    if (amount < 0) {
      throw new IllegalArgumentException("negative fetch " + amount);
    }
    demand = demand + amount < 0 ? Long.MAX_VALUE : demand + amount;
    schedule();
    return this;
  }

  @Override
  public ShardedRowStream endHandler(Handler<Void> endHandler) {
    this.endHandler = endHandler;
    return this;
  }

  @Override
  public Future<Void> close() {
    return finish(null);
  }

  @Override
  public int bufferedRowsHighWaterMark() {
    return highWaterMark;
  }

  private void schedule() {
    if (Vertx.currentContext() == context) {
      emit();
    } else {
      context.runOnContext(v -> emit());
    }
  }

  private Comparator<Row> activeOrder;

  /**
   * Runs the merge while there is demand. A cursor read that completes while the merge runs (a
   * future already complete, a handler that fetches more) asks for another pass instead of being
   * lost: a lost pass leaves the stream waiting for a read that already arrived, forever.
   */
  private void emit() {
    if (emitting) {
      again = true;
      return;
    }
    if (finished || handler == null) {
      return;
    }
    emitting = true;
    try {
      do {
        again = false;
        emitPass();
      } while (again && !finished);
    } finally {
      emitting = false;
    }
  }

  private void emitPass() {
    while (demand > 0 && !finished) {
      if (remaining == 0) {
        finish(null);
        break;
      }
      boolean waiting = false;
      Source best = null;
      for (Source s : sources) {
        if (s.done) {
          continue;
        }
        if (s.head == null) {
          if (s.batch != null && s.batch.hasNext()) {
            s.head = s.batch.next();
          } else if (s.batch == null || s.cursor.hasMore()) {
            read(s);
            waiting = true;
            continue;
          } else {
            s.done = true;
            continue;
          }
        }
        int order;
        try {
          order = best == null ? -1 : activeOrder.compare(s.head, best.head);
        } catch (RuntimeException e) {
          finish(mergeFailure(e));
          return;
        }
        if (order < 0) {
          best = s;
        }
      }
      if (waiting) {
        break;
      }
      if (best == null) {
        finish(null);
        break;
      }
      Row row = best.head;
      best.head = null;
      buffered--;
      if (skip > 0) {
        skip--;
        continue;
      }
      remaining--;
      if (demand != Long.MAX_VALUE) {
        demand--;
      }
      Row out;
      try {
        out = projector.apply(row);
      } catch (RuntimeException e) {
        finish(mergeFailure(e));
        return;
      }
      Handler<Row> h = handler;
      try {
        h.handle(out);
      } catch (RuntimeException e) {
        finish(e); // the caller's own handler: its exception as it is
      }
    }
  }

  private void read(Source s) {
    if (s.reading) {
      return;
    }
    s.reading = true;
    s.cursor
        .read(fetchSize)
        .onComplete(
            ar -> {
              Runnable apply =
                  () -> {
                    s.reading = false;
                    if (finished) {
                      return;
                    }
                    if (ar.failed()) {
                      finish(ar.cause());
                      return;
                    }
                    RowSet<Row> rs = ar.result();
                    if (projector == null) {
                      try {
                        projector =
                            ResultMerger.projector(
                                rs.columnsNames(),
                                rs.columnDescriptors(),
                                spec == null ? 0 : spec.derivedCount());
                        activeOrder = order(rs.columnsNames().size(), rs.columnDescriptors());
                      } catch (RuntimeException e) {
                        // thrown here it would escape into the context and leave the stream
                        // waiting forever
                        finish(mergeFailure(e));
                        return;
                      }
                    }
                    s.batch = rs.iterator();
                    buffered += rs.size();
                    highWaterMark = Math.max(highWaterMark, buffered);
                    if (rs.size() == 0 && !s.cursor.hasMore()) {
                      s.done = true;
                    }
                    emit();
                  };
              if (Vertx.currentContext() == context) {
                apply.run();
              } else {
                context.runOnContext(v -> apply.run());
              }
            });
  }

  /** A merge failure as the caller gets it ({@link StatementRunner#mergeFailure}). */
  private RuntimeException mergeFailure(RuntimeException e) {
    List<String> dataSources = new ArrayList<>();
    routed.units().forEach(u -> dataSources.add(u.dataSource()));
    return StatementRunner.mergeFailure(routed, dataSources, e);
  }

  private Future<Void> finish(Throwable failure) {
    if (finished) {
      return Future.succeededFuture();
    }
    finished = true;
    Future<Void> all = closeAll(sources);
    all.onComplete(v -> ended.tryComplete());
    all.onComplete(
        ar -> {
          // the connections are back in their pools: the pool's admission counts this one out
          onFinished.run();
          if (failure != null) {
            if (exceptionHandler != null) {
              exceptionHandler.handle(failure);
            }
          } else if (endHandler != null) {
            endHandler.handle(null);
          }
        });
    return all;
  }

  /** Closes the cursors and statements, then each connection once. */
  private static Future<Void> closeAll(List<Source> sources) {
    List<Future<Void>> closes = new ArrayList<>();
    for (Source s : sources) {
      closes.add(s.cursor.close().transform(ar -> s.statement.close()));
    }
    Set<SqlConnection> connections = new LinkedHashSet<>();
    sources.forEach(s -> connections.add(s.connection));
    return Future.join(closes)
        .transform(
            ar -> {
              List<Future<Void>> closing = new ArrayList<>();
              connections.forEach(c -> closing.add(c.close()));
              return Future.join(closing).mapEmpty();
            });
  }
}
