package io.shardkit.router.impl.execute;

import io.shardkit.router.ParameterCountException;
import io.shardkit.router.ShardUnavailableException;
import io.shardkit.router.impl.merge.MergedRowSet;
import io.shardkit.router.impl.merge.ResultMerger;
import io.shardkit.router.impl.parse.ParseErrors;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.shardkit.router.impl.route.HintSource;
import io.shardkit.router.impl.route.Plan;
import io.shardkit.router.impl.route.Router;
import io.shardkit.router.impl.route.Routing;
import io.shardkit.router.impl.route.TxContextHints;
import io.shardkit.router.spi.ShardTransaction;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLClient;
import io.vertx.sqlclient.PropertyKind;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Execute: plan (cached) → route + rewrite → run every unit on its data source's client in parallel
 * → merge → complete on the caller's context. Shared by the pool and by routed clients over a
 * transaction's connections; only {@link ClientSource} differs.
 */
final class StatementRunner {

  /** Where a data source's statements run. */
  @FunctionalInterface
  interface ClientSource {
    Future<SqlClient> clientFor(String dataSource);

    /**
     * Runs {@code op} on a client of {@code dataSource}: by default on {@link #clientFor}'s; the
     * pool's source with adaptive admission on a connection taken from the data source's pool for
     * it, timing the wait for it.
     */
    default <T> Future<T> run(String dataSource, Function<SqlClient, Future<T>> op) {
      return clientFor(dataSource).compose(op);
    }

    /** Runs {@code op} on a read replica's pool (without adaptive admission). */
    default <T> Future<T> runOn(ReadReplicas.Member replica, Function<SqlClient, Future<T>> op) {
      return op.apply(replica.pool);
    }

    /**
     * Whether statements through this source are new work the circuit breakers may refuse (the
     * pool); false for a transaction's own connections, whose outcomes are only reported.
     */
    default boolean gated() {
      return false;
    }

    /**
     * Checks a routed statement before any of its units runs; a throw refuses it with nothing sent
     * anywhere (a local transaction refuses a second data source here).
     */
    default void admit(String sql, Rewriter.Routed routed) {}

    /**
     * The source a statement executed now runs on (a connection answers with its transaction's or
     * the pool's), fixed before the statement may wait for the schema.
     */
    default ClientSource resolve() {
      return this;
    }

    /**
     * Whether the pool's limit of statements in flight may refuse a statement through this source:
     * true for the pool's own statements (new work); false for an open connection's or
     * transaction's, which are counted but never refused (work already started goes first).
     */
    default boolean refusable() {
      return false;
    }

    /** An admitted statement started; {@code statement} completes when it is done on every unit. */
    default void started(Future<?> statement) {}

    /**
     * How a write that sends several statements runs outside a transaction (the pool's source);
     * null for a transaction's source, whose statements are already in the transaction.
     */
    default ImplicitTransactions implicit() {
      return null;
    }

    /**
     * Runs a read that a read replica may serve (a plain SELECT outside any transaction, with no
     * hint forcing the primary) on a client of {@code dataSource}: the pool's source picks a
     * healthy replica when the data source has some; every other source runs it where {@link
     * #clientFor} says.
     */
    default <T> Future<T> read(String dataSource, Function<SqlClient, Future<T>> op) {
      return run(dataSource, op);
    }

    /** A gated source: the pool's, whose multi-statement writes run in implicit transactions. */
    static ClientSource pooled(ClientSource source, ImplicitTransactions implicit) {
      return new PooledSource(source, implicit, null, null, false, null);
    }
  }

  /**
   * The pool's source: primaries for writes, a healthy read replica for a read when the data source
   * has replicas. {@code onWrite} (a connection's) hears of every write admitted through it, so
   * that the connection sends its later reads to the primary (read your writes); {@code replicas}
   * null means primaries only.
   */
  static final class PooledSource implements ClientSource {
    private final ClientSource primaries;
    private final ImplicitTransactions implicit;
    private final ReadReplicas replicas;
    private final Runnable onWrite;
    private final boolean refusable;
    private final QueueDelayAdmission admission;

    /**
     * @param admission the adaptive admission per data source, or null (statements run on the pools
     *     as they are, nothing timed or refused per data source)
     */
    PooledSource(
        ClientSource primaries,
        ImplicitTransactions implicit,
        ReadReplicas replicas,
        Runnable onWrite,
        boolean refusable,
        QueueDelayAdmission admission) {
      this.primaries = primaries;
      this.implicit = implicit;
      this.replicas = replicas;
      this.onWrite = onWrite;
      this.refusable = refusable;
      this.admission = admission;
    }

    /**
     * The same source for an open connection, reporting each admitted write to {@code listener}:
     * its statements are not refused by the pool's limit of statements in flight.
     */
    PooledSource observingWrites(Runnable listener) {
      return new PooledSource(primaries, implicit, replicas, listener, false, admission);
    }

    /**
     * The same source for an open connection without replicas: every statement on the primaries,
     * none refused by the pool's limit of statements in flight.
     */
    PooledSource primariesOnly() {
      return new PooledSource(primaries, implicit, null, onWrite, false, admission);
    }

    @Override
    public boolean refusable() {
      return refusable;
    }

    @Override
    public Future<SqlClient> clientFor(String dataSource) {
      return primaries.clientFor(dataSource);
    }

    @Override
    public <T> Future<T> run(String dataSource, Function<SqlClient, Future<T>> op) {
      return admission == null ? primaries.run(dataSource, op) : admission.run(dataSource, op);
    }

    @Override
    public <T> Future<T> read(String dataSource, Function<SqlClient, Future<T>> op) {
      ReadReplicas.Member replica =
          replicas == null
              ? null
              : admission == null
                  ? replicas.pick(dataSource)
                  : admission.pickReplica(dataSource, replicas);
      if (replica == null) {
        return run(dataSource, op);
      }
      // with adaptive admission, on a connection of the replica's pool, its wait timed and the
      // read counted outstanding on the replica until it is done (checked in admit)
      Future<T> sent =
          admission == null
              ? primaries.runOn(replica, op)
              : admission.run(admission.replica(replica), op);
      return sent.recover(
          e -> {
            if (!isConnectFailure(e)) {
              return Future.failedFuture(e);
            }
            // a replica that cannot be reached: the read goes to the primary, the replica gets
            // no reads until its heartbeat answers again
            replicas.unreachable(replica, e);
            return run(dataSource, op);
          });
    }

    @Override
    public void admit(String sql, Rewriter.Routed routed) {
      if (refusable && admission != null) {
        // the pool's own new statement: refused when a data source it needs (or, for a read a
        // replica serves, every healthy replica of it) has a standing queue
        admission.check(routed, replicas);
      }
      if (onWrite != null && routed.write()) {
        onWrite.run();
      }
    }

    @Override
    public boolean gated() {
      return true;
    }

    @Override
    public ImplicitTransactions implicit() {
      return implicit;
    }
  }

  /**
   * Whether a replica may serve the statement: a SELECT without a locking clause, and the scope's
   * routing hint does not ask for the primary.
   */
  static boolean replicaRead(Rewriter.Routed routed) {
    return routed.plan() instanceof io.shardkit.router.impl.route.SelectPlan select
        && !select.locking()
        && !TxContextHints.primaryOnly();
  }

  private final Vertx vertx;
  private final PlanCache cache;
  private final Router router;
  private final Rewriter rewriter;
  private final HintSource hints;

  private final RouterTracing tracing;
  private final RouterMetrics metrics;
  private final ShardBreakers breakers;
  private final StatementAdmission admission;

  StatementRunner(
      Vertx vertx,
      PlanCache cache,
      Router router,
      Rewriter rewriter,
      HintSource hints,
      RouterTracing tracing,
      RouterMetrics metrics,
      ShardBreakers breakers,
      int maxInFlight) {
    this.admission = new StatementAdmission(maxInFlight, metrics);
    this.tracing = tracing;
    this.metrics = metrics;
    this.breakers = breakers;
    this.vertx = vertx;
    this.cache = cache;
    this.router = router;
    this.rewriter = rewriter;
    this.hints = hints;
  }

  /** The pool's admission control of statements in flight. */
  StatementAdmission admission() {
    return admission;
  }

  /** Route + rewrite only (pure). */
  Rewriter.Routed route(String sql, Tuple params) {
    return route(sql, params, -1);
  }

  /**
   * Route + rewrite only (pure), after checking the values against the statement's placeholders.
   *
   * @param batchIndex the tuple's index in executeBatch, or -1
   */
  private Rewriter.Routed route(String sql, Tuple params, int batchIndex) {
    try {
      PlanCache.Entry entry = cache.entry(sql);
      Plan plan = entry.planOrThrow();
      checkParameters(sql, entry.parameters(), params, batchIndex);
      Routing routing = router.routing(plan, params, hints.current());
      Rewriter.Routed routed = rewriter.rewrite(plan, routing, params);
      metrics.routed(routed);
      return routed;
    } catch (io.shardkit.router.UnsupportedSqlException e) {
      metrics.refused();
      throw e;
    }
  }

  /**
   * As a plain Vert.x pool does: a prepared statement must get exactly one value per placeholder
   * (extra values are not ignored, missing ones are not bound as NULL). A text query ({@code
   * params} null) with placeholders is what MySQL answers with a syntax error, so it is refused as
   * one.
   */
  private static void checkParameters(String sql, int expected, Tuple params, int batchIndex) {
    if (params == null) {
      if (expected > 0) {
        throw ParseErrors.placeholderInTextQuery(sql);
      }
    } else if (params.size() != expected) {
      throw new ParameterCountException(expected, params.size(), batchIndex);
    }
  }

  /** Plans {@code sql} (cached) and throws when the router would refuse it; no I/O. */
  void check(String sql) {
    cache.entry(sql).planOrThrow();
  }

  Set<String> dataSourcesFor(String sql, Tuple params) {
    Set<String> out = new LinkedHashSet<>();
    for (SqlUnit unit : route(sql, params).units()) {
      out.add(unit.dataSource());
    }
    return out;
  }

  private volatile Future<?> schemaReady = Future.succeededFuture();
  private Function<List<String>, Future<?>> afterDdl = tables -> Future.succeededFuture();
  private Function<List<String>, List<String>> unknownTables = tables -> List.of();

  /**
   * Statements wait for this before they are planned (the pool's first schema load), so that no
   * statement is routed without the column types the pool can know; {@code afterDdl} reads the
   * tables a DDL statement changed (and tables first used without metadata) again.
   */
  void schemaReady(
      Future<?> ready,
      Function<List<String>, Future<?>> afterDdl,
      Function<List<String>, List<String>> unknownTables) {
    this.schemaReady = ready;
    this.afterDdl = afterDdl;
    this.unknownTables = unknownTables;
  }

  /** Runs {@code call} on the caller's context once the schema is loaded. */
  private <T> Future<T> afterSchema(java.util.function.Supplier<Future<T>> call) {
    return afterSchemaLoad(schemaReady, call);
  }

  private <T> Future<T> afterSchemaLoad(
      Future<?> load, java.util.function.Supplier<Future<T>> call) {
    Context caller = vertx.getOrCreateContext();
    io.vertx.core.Promise<T> promise = io.vertx.core.Promise.promise();
    load.onComplete(ar -> caller.runOnContext(v -> call.get().onComplete(promise)));
    return promise.future();
  }

  /**
   * Executes one statement; {@code params} null means a text query. Admission first: a statement of
   * the pool beyond its limit of statements in flight is refused before anything else; an admitted
   * one counts until its result completes, whatever the outcome.
   */
  <T> Future<T> execute(
      String sql, Tuple params, ClientSource current, Function<RowSet<Row>, T> finish) {
    ClientSource source = current.resolve();
    if (!admission.tryEnter(source.refusable())) {
      return admission.refused();
    }
    Future<T> result;
    try {
      result = executeAdmitted(sql, params, source, finish);
    } catch (RuntimeException | Error e) {
      admission.exit();
      throw e;
    }
    return admission.exitWhen(result);
  }

  private <T> Future<T> executeAdmitted(
      String sql, Tuple params, ClientSource source, Function<RowSet<Row>, T> finish) {
    if (!schemaReady.isComplete()) {
      return afterSchema(() -> executeAdmitted(sql, params, source, finish));
    }
    Context caller = vertx.getOrCreateContext();
    Future<T> result;
    try {
      Rewriter.Routed routed = route(sql, params);
      if (routed.plan() != null && routed.plan().kind() != Plan.Kind.DDL) {
        List<String> unknown = unknownTables.apply(routed.plan().tables());
        if (!unknown.isEmpty()) {
          // first use of tables created elsewhere: read their types, then plan again
          Future<?> load = afterDdl.apply(unknown);
          return afterSchemaLoad(load, () -> executeAdmitted(sql, params, source, finish));
        }
      }
      java.util.function.Supplier<Future<ShardTransaction>> implicit =
          implicitFor(sql, List.of(routed), source, false);
      java.util.function.Supplier<Future<T>> work =
          implicit != null
              ? () -> source.implicit().run(implicit, tx -> run(routed, tx)).map(finish::apply)
              : routed.plan() != null && routed.plan().kind() == Plan.Kind.DDL
                  // DDL through the pool: the tables' column types are read again before the caller
                  // hears back, so its next statement is planned with them
                  ? () ->
                      run(routed, source)
                          .compose(rs -> afterDdl.apply(routed.plan().tables()).map(rs))
                          .map(finish::apply)
                  : () -> finished(run(routed, source), finish);
      admit(source, sql, routed);
      // the source tracks the statement's own future (a transaction's end waits for what still
      // runs on its connection, or kills it), not the caller's answer, which the deadline ends
      java.util.function.Supplier<Future<T>> tracked =
          () -> {
            Future<T> sent = work.get();
            source.started(sent);
            return sent;
          };
      if (io.shardkit.context.TxScope.current().isPresent()) {
        // Inside a transaction scope: nothing is sent once the deadline has passed, and the
        // caller hears back by the deadline at the latest.
        result = io.shardkit.context.TxScope.bound(tracked, null);
      } else {
        result = tracked.get();
      }
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    return onCaller(caller, result);
  }

  /** The rows as the caller's query shapes them ({@link #AS_IS}: the rows themselves). */
  @SuppressWarnings("unchecked")
  private static <T> Future<T> finished(Future<RowSet<Row>> rows, Function<RowSet<Row>, T> finish) {
    return finish == AS_IS ? (Future<T>) rows : rows.map(finish);
  }

  /** The finishing function of a plain {@code execute}: its result is the statement's rows. */
  static final Function<RowSet<Row>, RowSet<Row>> AS_IS = rs -> rs;

  /**
   * Executes a batch: each parameter tuple routed on its own, results chained in order. It is one
   * statement for admission (as in {@link #execute}).
   */
  <T> Future<T> executeBatch(
      String sql,
      List<Tuple> batch,
      ClientSource current,
      Function<RowSet<Row>, T> finish,
      Linker<T> linker) {
    ClientSource source = current.resolve();
    if (!admission.tryEnter(source.refusable())) {
      return admission.refused();
    }
    Future<T> result;
    try {
      result = executeBatchAdmitted(sql, batch, source, finish, linker);
    } catch (RuntimeException | Error e) {
      admission.exit();
      throw e;
    }
    return admission.exitWhen(result);
  }

  private <T> Future<T> executeBatchAdmitted(
      String sql,
      List<Tuple> batch,
      ClientSource source,
      Function<RowSet<Row>, T> finish,
      Linker<T> linker) {
    if (!schemaReady.isComplete()) {
      return afterSchema(() -> executeBatchAdmitted(sql, batch, source, finish, linker));
    }
    try {
      Plan plan = cache.plan(sql);
      List<String> unknown =
          plan.kind() == Plan.Kind.DDL ? List.of() : unknownTables.apply(plan.tables());
      if (!unknown.isEmpty()) {
        return afterSchemaLoad(
            afterDdl.apply(unknown),
            () -> executeBatchAdmitted(sql, batch, source, finish, linker));
      }
    } catch (RuntimeException refused) {
      // refused statements are reported below, per tuple, as before
    }
    Context caller = vertx.getOrCreateContext();
    if (batch.isEmpty()) {
      return onCaller(caller, Future.failedFuture(new IllegalArgumentException("empty batch")));
    }
    List<Rewriter.Routed> routes = new ArrayList<>(batch.size());
    java.util.function.Supplier<Future<ShardTransaction>> implicit;
    try {
      for (int i = 0; i < batch.size(); i++) {
        routes.add(route(sql, batch.get(i), i));
      }
      for (Rewriter.Routed routed : routes) {
        admit(source, sql, routed);
      }
      implicit = implicitFor(sql, routes, source, groupable(routes));
    } catch (RuntimeException e) {
      return onCaller(caller, Future.failedFuture(e));
    }
    boolean grouped = groupable(routes);
    Future<List<RowSet<Row>>> all =
        implicit != null
            ? source
                .implicit()
                .run(implicit, tx -> grouped ? grouped(routes, tx) : sequential(routes, tx))
            : grouped ? grouped(routes, source) : sequential(routes, source);
    source.started(all);
    return onCaller(
        caller,
        all.map(
            list -> {
              T first = null;
              T previous = null;
              for (RowSet<Row> rs : list) {
                T t = finish.apply(detached(rs));
                if (previous != null) {
                  linker.link(previous, t);
                } else {
                  first = t;
                }
                previous = t;
              }
              return first;
            }));
  }

  /**
   * How a write outside a transaction (on the pool's source) that sends several statements runs:
   * null to run it as it is; throws when it is refused (nothing sent).
   *
   * @param grouped whether the routes run as one driver batch per (data source, SQL)
   */
  private java.util.function.Supplier<Future<ShardTransaction>> implicitFor(
      String sql, List<Rewriter.Routed> routes, ClientSource source, boolean grouped) {
    ImplicitTransactions implicit = source.implicit();
    if (implicit == null) {
      return null;
    }
    for (Rewriter.Routed routed : routes) {
      if (!isDml(routed)) {
        return null; // reads and the rest: no implicit transaction, nothing to collect
      }
    }
    Set<String> dataSources = new LinkedHashSet<>();
    Set<List<String>> groups = new HashSet<>();
    Set<String> tables = new LinkedHashSet<>();
    int sends = 0;
    for (Rewriter.Routed routed : routes) {
      tables.addAll(routed.plan().tables());
      for (SqlUnit unit : routed.units()) {
        dataSources.add(unit.dataSource());
        if (!grouped || groups.add(List.of(unit.dataSource(), unit.sql()))) {
          sends++;
        }
      }
    }
    try {
      return implicit.decide(sql, new ArrayList<>(tables), dataSources, sends);
    } catch (RuntimeException refused) {
      metrics.refused();
      throw refused;
    }
  }

  private static boolean isDml(Rewriter.Routed routed) {
    Plan plan = routed.plan();
    return plan != null
        && (plan.kind() == Plan.Kind.INSERT
            || plan.kind() == Plan.Kind.UPDATE
            || plan.kind() == Plan.Kind.DELETE);
  }

  /** Every tuple routes to one unit with its own parameters: batch them per (data source, SQL). */
  private static boolean groupable(List<Rewriter.Routed> routes) {
    for (Rewriter.Routed r : routes) {
      if (r.units().size() != 1 || r.units().get(0).params() == null) {
        return false;
      }
    }
    return true;
  }

  private Future<List<RowSet<Row>>> grouped(List<Rewriter.Routed> routes, ClientSource source) {
    Map<List<String>, List<Integer>> groups = new java.util.LinkedHashMap<>();
    for (int i = 0; i < routes.size(); i++) {
      SqlUnit unit = routes.get(i).units().get(0);
      groups.computeIfAbsent(List.of(unit.dataSource(), unit.sql()), k -> new ArrayList<>()).add(i);
    }
    List<RowSet<Row>> results = new ArrayList<>(java.util.Collections.nCopies(routes.size(), null));
    List<Future<Void>> runs = new ArrayList<>();
    List<SqlUnit> firstUnits = new ArrayList<>();
    List<String> runDataSources = new ArrayList<>();
    for (List<String> key : groups.keySet()) {
      firstUnits.add(new SqlUnit(key.get(0), key.get(1), null));
    }
    Map<String, ShardBreaker.Call> calls;
    try {
      calls = breakers.start(firstUnits, source.gated());
    } catch (RuntimeException refused) {
      return Future.failedFuture(refused);
    }
    int kind = routes.get(0).plan().kind().ordinal();
    for (Map.Entry<List<String>, List<Integer>> group : groups.entrySet()) {
      String ds = group.getKey().get(0);
      String unitSql = group.getKey().get(1);
      List<Tuple> tuples = new ArrayList<>();
      for (int i : group.getValue()) {
        tuples.add(routes.get(i).units().get(0).params());
      }
      long start = System.nanoTime();
      Future<RowSet<Row>> sent;
      try {
        sent = source.run(ds, c -> c.preparedQuery(unitSql).executeBatch(tuples));
      } catch (RuntimeException e) {
        sent = Future.failedFuture(e);
      }
      Future<RowSet<Row>> batchResult = sent.recover(e -> Future.failedFuture(typed(ds, e)));
      batchResult.onComplete(ar -> metrics.unit(ds, kind, outcome(ar), start));
      runDataSources.add(ds);
      runs.add(
          batchResult.map(
              first -> {
                RowSet<Row> rs = first;
                for (int i : group.getValue()) {
                  results.set(i, finishSingle(routes.get(i), detachedOne(rs)));
                  rs = rs.next();
                }
                return null;
              }));
    }
    ShardBreakers.end(calls, runDataSources, runs);
    return settled(runs, routes.get(0).write()).map(v -> results);
  }

  private Future<List<RowSet<Row>>> sequential(List<Rewriter.Routed> routes, ClientSource source) {
    List<RowSet<Row>> results = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (Rewriter.Routed routed : routes) {
      chain =
          chain.compose(
              v ->
                  run(routed, source)
                      .map(
                          rs -> {
                            results.add(rs);
                            return null;
                          }));
    }
    return chain.map(v -> results);
  }

  /** One element of a driver batch result, without its {@code next()}. */
  private static RowSet<Row> detachedOne(RowSet<Row> rs) {
    List<Row> rows = new ArrayList<>(rs.size());
    rs.forEach(rows::add);
    Map<PropertyKind<?>, Object> properties = new HashMap<>();
    Long id = rs.property(MySQLClient.LAST_INSERTED_ID);
    if (id != null) {
      properties.put(MySQLClient.LAST_INSERTED_ID, id);
    }
    return MergedRowSet.of(
        rows, rs.columnsNames(), rs.columnDescriptors(), rs.rowCount(), properties);
  }

  /** Chains batch results (RowSet.next / SqlResult.next). */
  @FunctionalInterface
  interface Linker<T> {
    void link(T previous, T next);
  }

  private Future<RowSet<Row>> run(Rewriter.Routed routed, ClientSource source) {
    List<SqlUnit> units = routed.units();
    io.opentelemetry.api.trace.Span statement = tracing.statement(routed);
    Map<String, ShardBreaker.Call> calls;
    try {
      // a statement that needs a shard whose breaker is open fails here, before any I/O
      calls = breakers.start(units, source.gated());
    } catch (RuntimeException refused) {
      RouterTracing.fail(statement, refused);
      return Future.failedFuture(refused);
    }
    Future<RowSet<Row>> out;
    if (units.size() == 1) {
      SqlUnit unit = units.get(0);
      Future<RowSet<Row>> one = runUnit(unit, source, routed, statement);
      ShardBreakers.end(calls, unit.dataSource(), one);
      out = routed.generatedKeys().isEmpty() ? one : one.map(rs -> finishSingle(routed, rs));
    } else {
      out = runAll(routed, source, statement, calls);
    }
    out = boundProbes(calls, out);
    out.onComplete(ar -> RouterTracing.end(statement, ar));
    return out;
  }

  /**
   * A half-open probe that gets no answer within the slow-call duration fails then (the breaker has
   * re-opened), instead of holding its caller until the deadline.
   */
  private static <T> Future<T> boundProbes(Map<String, ShardBreaker.Call> calls, Future<T> out) {
    if (calls == null) {
      return out;
    }
    Promise<T> bounded = null;
    for (Map.Entry<String, ShardBreaker.Call> e : calls.entrySet()) {
      if (!e.getValue().probe()) {
        continue;
      }
      if (bounded == null) {
        Promise<T> first = Promise.promise();
        out.onComplete(
            ar -> {
              if (ar.succeeded()) {
                first.tryComplete(ar.result());
              } else {
                first.tryFail(ar.cause());
              }
            });
        bounded = first;
      }
      Promise<T> p = bounded;
      String ds = e.getKey();
      e.getValue()
          .onSlow(
              () ->
                  p.tryFail(
                      new ShardUnavailableException(
                          ds,
                          new java.util.concurrent.TimeoutException(
                              "half-open probe got no answer in time; the breaker is open again"))));
    }
    return bounded == null ? out : bounded.future();
  }

  private Future<RowSet<Row>> runAll(
      Rewriter.Routed routed,
      ClientSource source,
      io.opentelemetry.api.trace.Span statement,
      Map<String, ShardBreaker.Call> calls) {
    List<SqlUnit> units = routed.units();
    List<Future<RowSet<Row>>> futures = new ArrayList<>(units.size());
    List<String> dataSources = new ArrayList<>(units.size());
    for (SqlUnit unit : units) {
      futures.add(runUnit(unit, source, routed, statement));
      dataSources.add(unit.dataSource());
    }
    ShardBreakers.end(calls, dataSources, futures);
    return settled(futures, routed.write())
        .map(
            all ->
                combined(
                    routed,
                    dataSources,
                    () -> {
                      List<RowSet<Row>> results = new ArrayList<>(all);
                      if (routed.union() != null) {
                        return new io.shardkit.router.impl.merge.UnionMerge(routed.union())
                            .merge(results);
                      }
                      if (routed.write() || routed.merge() == null) {
                        return WriteResults.combine(routed, results);
                      }
                      return ResultMerger.merge(
                          results,
                          routed.merge(),
                          routed.offset(),
                          routed.limit(),
                          routed.params());
                    }));
  }

  /**
   * Runs the combination of the units' answers. shardkit's own exceptions (refusals found only in
   * the data, e.g. values the merge cannot compare) pass as they are; any other runtime exception
   * (a bug) becomes a typed {@link io.shardkit.router.ResultMergeException} naming the statement
   * and the data sources, with the original as its cause, instead of reaching the caller bare.
   */
  static <T> T combined(
      Rewriter.Routed routed, List<String> dataSources, java.util.function.Supplier<T> combine) {
    try {
      return combine.get();
    } catch (RuntimeException e) {
      throw mergeFailure(routed, dataSources, e);
    }
  }

  /**
   * What a failure of combining the units' answers reaches the caller as: shardkit's own exceptions
   * as they are, any other as a {@link io.shardkit.router.ResultMergeException} (see {@link
   * #combined}).
   */
  static RuntimeException mergeFailure(
      Rewriter.Routed routed, List<String> dataSources, RuntimeException e) {
    if (e instanceof io.shardkit.context.ShardkitException) {
      return e;
    }
    return new io.shardkit.router.ResultMergeException(
        routed.plan() == null ? "(statement not known)" : routed.plan().sql(),
        new ArrayList<>(new LinkedHashSet<>(dataSources)),
        routed.write(),
        e);
  }

  /**
   * The results in order. A write waits for every unit before it fails (with the first failed
   * unit's error), so that a transaction around it rolls back only once nothing runs any more; a
   * read fails at the first failure.
   */
  private static <R> Future<List<R>> settled(List<Future<R>> futures, boolean write) {
    Future<?> all = write ? Future.join(futures) : Future.all(futures);
    return all.transform(
        ar -> {
          List<R> results = new ArrayList<>(futures.size());
          for (Future<R> f : futures) {
            if (f.failed()) {
              return Future.failedFuture(f.cause());
            }
            results.add(f.result());
          }
          if (ar.failed()) {
            return Future.failedFuture(ar.cause());
          }
          return Future.succeededFuture(results);
        });
  }

  /** A RowSet that can be chained with {@code setNext}: driver results are copied. */
  private static RowSet<Row> detached(RowSet<Row> rs) {
    if (rs instanceof MergedRowSet<Row>) {
      return rs;
    }
    List<Row> rows = new ArrayList<>(rs.size());
    rs.forEach(rows::add);
    Map<PropertyKind<?>, Object> properties = new HashMap<>();
    Long id = rs.property(MySQLClient.LAST_INSERTED_ID);
    if (id != null) {
      properties.put(MySQLClient.LAST_INSERTED_ID, id);
    }
    return MergedRowSet.of(
        rows, rs.columnsNames(), rs.columnDescriptors(), rs.rowCount(), properties);
  }

  private static RowSet<Row> finishSingle(Rewriter.Routed routed, RowSet<Row> rs) {
    if (routed.generatedKeys().isEmpty()) {
      return rs;
    }
    return WriteResults.combine(routed, List.of(rs));
  }

  private Future<RowSet<Row>> runUnit(
      SqlUnit unit,
      ClientSource source,
      Rewriter.Routed routed,
      io.opentelemetry.api.trace.Span statement) {
    io.opentelemetry.api.trace.Span span = tracing.unit(statement, routed, unit);
    long start = System.nanoTime();
    boolean pooled = source.gated();
    if (pooled) {
      metrics.pooledStart(unit.dataSource());
    }
    Function<SqlClient, Future<RowSet<Row>>> op =
        c ->
            unit.params() == null
                ? c.query(unit.sql()).execute()
                : c.preparedQuery(unit.sql()).execute(unit.params());
    Future<RowSet<Row>> sent;
    try {
      sent =
          pooled && replicaRead(routed)
              ? source.read(unit.dataSource(), op)
              : source.run(unit.dataSource(), op);
    } catch (RuntimeException e) {
      sent = Future.failedFuture(e);
    }
    Future<RowSet<Row>> result =
        sent.recover(e -> Future.failedFuture(typed(unit.dataSource(), e)));
    int kind = routed.plan().kind().ordinal();
    result.onComplete(
        ar -> {
          if (pooled) {
            metrics.pooledEnd(unit.dataSource());
          }
          metrics.unit(unit.dataSource(), kind, outcome(ar), start);
          RouterTracing.end(span, ar);
        });
    return result;
  }

  /** The unit's outcome as an index of {@link RouterMetrics#OUTCOMES}. */
  private static int outcome(io.vertx.core.AsyncResult<?> ar) {
    return ar.succeeded() ? 0 : ar.cause() instanceof ShardUnavailableException ? 1 : 2;
  }

  /**
   * {@link ClientSource#admit}, except that a data source whose circuit breaker is open is refused
   * as open, not as overloaded, as a stream is ({@link MergingRowStream}): its statements queue
   * because it does not answer. Checked only when the admission refuses, off the statement's path.
   */
  private void admit(ClientSource source, String sql, Rewriter.Routed routed) {
    try {
      source.admit(sql, routed);
    } catch (io.shardkit.router.ShardOverloadedException overloaded) {
      if (source.gated()) {
        checkAvailable(routed);
      }
      throw overloaded;
    }
  }

  /** Refuses (throws) when a data source of {@code routed} must not take new work now. */
  void checkAvailable(Rewriter.Routed routed) {
    breakers.checkAvailable(routed.units());
  }

  /** The driver's failure in the user's terms: unreachable or overloaded shards are typed. */
  static Throwable typed(String dataSource, Throwable e) {
    Throwable overloaded = io.shardkit.router.ShardOverloadedException.typed(dataSource, e);
    if (overloaded != e) {
      return overloaded;
    }
    return isConnectFailure(e) ? new ShardUnavailableException(dataSource, e) : e;
  }

  static boolean isConnectFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ShardUnavailableException) {
        return false;
      }
      if (t instanceof java.net.ConnectException
          || t instanceof java.net.NoRouteToHostException
          || t instanceof java.net.UnknownHostException
          || t.getClass().getName().equals("io.netty.channel.ConnectTimeoutException")) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /**
   * Completes on the caller's context, whichever thread finished the work. A future already bound
   * to that context (the pools' answers to a statement sent from it) is returned as it is: Vert.x
   * runs its listeners there.
   */
  static <T> Future<T> onCaller(Context caller, Future<T> future) {
    if (future instanceof io.vertx.core.internal.FutureInternal<T> bound
        && bound.context() == caller) {
      return future;
    }
    Promise<T> promise = Promise.promise();
    future.onComplete(
        ar -> {
          if (Vertx.currentContext() == caller) {
            promise.handle(ar);
          } else {
            caller.runOnContext(v -> promise.handle(ar));
          }
        });
    return promise.future();
  }
}
