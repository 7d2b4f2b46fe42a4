package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ConfigurationException;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.TxScope;
import io.shardkit.router.ShardedPool;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipants;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.TccTryRefusedException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/** Runs each phase of a registered action in a fenced local transaction on the owning shard. */
public final class LocalParticipants implements TccParticipants {

  private static final System.Logger LOG = System.getLogger(LocalParticipants.class.getName());
  private static final int CLEANUP_BATCH = 500;

  private final Vertx vertx;
  private final ShardedPool pool;

  /** Times the waits for the phases' connections, once {@link #measuredBy}; else null. */
  private volatile io.shardkit.tx.impl.Admission admission;

  private final TccOptions options;
  private final Fence fence;
  private final TccMetrics metrics;
  private final Map<String, LocalAction<?>> actions = new ConcurrentHashMap<>();

  /** What a fenced phase did, and the saga action's result (null otherwise). */
  record Ran(TccPhaseOutcome outcome, Object value) {}

  private volatile BiFunction<String, TccBranch, Future<Void>> beforeCommit;

  private LocalParticipants(
      Vertx vertx, ShardedPool pool, TccOptions options, io.shardkit.tx.impl.trace.TxSpans spans) {
    this.vertx = vertx;
    this.pool = pool;
    this.options = options;
    this.fence = new Fence(options.fenceTable(), options.phaseTimeout());
    this.metrics = new TccMetrics(options.meterRegistry(), spans, options.observers());
  }

  /** Times the waits for the phases' connections in the coordinator's {@code admission}. */
  void measuredBy(io.shardkit.tx.impl.Admission admission) {
    this.admission = admission;
  }

  public static LocalParticipants create(Vertx vertx, ShardedPool pool, TccOptions options) {
    java.util.Objects.requireNonNull(options, "options");
    return create(
        vertx, pool, options, new io.shardkit.tx.impl.trace.TxSpans(options.openTelemetry()));
  }

  /** With the coordinator's spans, so local phases land under its transaction spans. */
  static LocalParticipants create(
      Vertx vertx, ShardedPool pool, TccOptions options, io.shardkit.tx.impl.trace.TxSpans spans) {
    return new LocalParticipants(
        java.util.Objects.requireNonNull(vertx, "vertx"),
        java.util.Objects.requireNonNull(pool, "pool"),
        java.util.Objects.requireNonNull(options, "options"),
        spans);
  }

  @Override
  public <A> TccParticipants register(TccAction<A> action) {
    if (!action.isLocal()) {
      throw new ConfigurationException(
          "actions." + action.name(), "a remote reference cannot be registered as a local action");
    }
    return register(LocalAction.of(action), "actions.");
  }

  @Override
  public <A> TccParticipants register(SagaStep<A, ?> step) {
    if (!step.isLocal()) {
      throw new ConfigurationException(
          "steps." + step.name(), "a remote reference cannot be registered as a local step");
    }
    return register(LocalAction.of(step), "steps.");
  }

  private TccParticipants register(LocalAction<?> action, String path) {
    String table = action.logicalTable;
    if (table != null
        && pool.rules().tableRule(table).isEmpty()
        && !pool.rules().singleTables().containsKey(table.toLowerCase(java.util.Locale.ROOT))) {
      throw new ConfigurationException(
          path + action.name + ".logicalTable",
          "table " + table + " is neither sharded nor single in the pool's rules");
    }
    if (actions.putIfAbsent(action.name, action) != null) {
      throw new ConfigurationException(
          path + action.name, "an action or step with this name is already registered");
    }
    return this;
  }

  /** The registered saga step of that name, if it is one (null otherwise). */
  Protocol protocolOf(String name) {
    LocalAction<?> action = actions.get(name);
    return action == null ? null : action.protocol;
  }

  /**
   * Test hook: runs after the fence and the phase's statements, before the local commit, with the
   * phase name and the branch; the commit waits for the returned future. Null removes it.
   */
  public void beforeCommit(BiFunction<String, TccBranch, Future<Void>> hook) {
    this.beforeCommit = hook;
  }

  @Override
  public Set<String> actions() {
    return Set.copyOf(actions.keySet());
  }

  boolean has(String action) {
    return actions.containsKey(action);
  }

  @Override
  public Future<TccPhaseOutcome> tryBranch(TccBranch branch) {
    return run(Sql.TRY, branch);
  }

  @Override
  public Future<TccPhaseOutcome> confirm(TccBranch branch) {
    return run(Sql.CONFIRM, branch);
  }

  @Override
  public Future<TccPhaseOutcome> cancel(TccBranch branch) {
    return run(Sql.CANCEL, branch);
  }

  private Future<TccPhaseOutcome> run(int phase, TccBranch branch) {
    return ran(phase, branch).map(Ran::outcome);
  }

  /** Runs a saga step's action (fenced like a try); completes with the action's result. */
  Future<Object> runAction(TccBranch branch) {
    return ran(Sql.TRY, branch).map(Ran::value);
  }

  private Future<Ran> ran(int phase, TccBranch branch) {
    LocalAction<?> action = actions.get(branch.action());
    if (action == null) {
      return Future.failedFuture(
          new ShardkitException(
              "transaction "
                  + branch.globalId()
                  + ": no TCC action or saga step '"
                  + branch.action()
                  + "' is registered here (registered: "
                  + actions.keySet()
                  + ")"));
    }
    ShardkitException refused = action.refuse(phase, branch.globalId());
    if (refused != null) {
      return Future.failedFuture(refused);
    }
    long start = System.nanoTime();
    Future<Ran> outcome;
    try {
      outcome = run(phase, branch, action);
    } catch (RuntimeException e) {
      outcome = Future.failedFuture(e);
    }
    return outcome.andThen(
        ar ->
            metrics.phase(
                action.protocol.mode(),
                branch.globalId(),
                action.phaseName(phase),
                ar.succeeded()
                    ? ar.result().outcome().name().toLowerCase(java.util.Locale.ROOT)
                    : ar.cause() instanceof TccTryRefusedException ? "refused" : "failed",
                start));
  }

  /**
   * Refuses (throws ShardCircuitOpenException) a try whose data source's circuit breaker is open,
   * before any I/O; remote and unplaceable actions pass (they fail later with their own error).
   */
  public <A> void checkAvailable(TccAction<A> action, A argument) {
    checkAvailable(action.dataSourceFor(argument, pool.rules()));
  }

  /** {@link #checkAvailable(TccAction, Object)} for a saga step. */
  public <A> void checkAvailable(SagaStep<A, ?> step, A argument) {
    checkAvailable(step.dataSourceFor(argument, pool.rules()));
  }

  private void checkAvailable(String dataSource) {
    if (dataSource != null && pool.dataSourceNames().contains(dataSource)) {
      pool.circuitBreaker(dataSource).checkAvailable();
    }
  }

  private <A> Future<Ran> run(int phase, TccBranch branch, LocalAction<A> action) {
    A argument = action.codec.decode(branch.args());
    String dataSource = action.dataSourceFor(argument, pool.rules());
    if (phase == Sql.TRY && dataSource != null && pool.dataSourceNames().contains(dataSource)) {
      pool.circuitBreaker(dataSource).checkAvailable(); // a try never starts on an open shard
    }
    if (dataSource == null || !pool.dataSourceNames().contains(dataSource)) {
      return Future.failedFuture(
          new ShardkitException(
              "transaction "
                  + branch.globalId()
                  + ": action "
                  + action.name
                  + " placed branch "
                  + branch.branchId()
                  + " on unknown data source "
                  + dataSource
                  + " (known: "
                  + pool.dataSourceNames()
                  + ")"));
    }
    // A try takes what is left of its transaction; a confirm/cancel attempt at most phaseTimeout.
    boolean inScope = TxScope.current().isPresent();
    ScopeOptions scope =
        ScopeOptions.builder()
            .globalId(branch.globalId())
            .branchId(branch.branchId())
            .timeout(
                phase == Sql.TRY && inScope ? ScopeOptions.MAX_TIMEOUT : options.phaseTimeout())
            .build();
    Pool shard = pool.pool(dataSource);
    return TxScope.run(
            vertx,
            scope,
            () ->
                LocalTx.opened(
                    LocalTx.Connector.of(
                        shard,
                        admission,
                        dataSource,
                        (c, running) -> pool.cancelRunning(dataSource, c, running)),
                    conn -> fence.statements(phase, conn, branch),
                    (conn, begun) ->
                        fence
                            .decide(phase, conn, branch, dataSource, begun)
                            .compose(
                                step -> {
                                  if (step != Fence.Step.RUN) {
                                    return Future.succeededFuture(new Ran(outcome(step), null));
                                  }
                                  PhaseContextImpl context =
                                      new PhaseContextImpl(
                                          branch, action.phaseName(phase), dataSource, conn, pool);
                                  return action
                                      .run(phase, context, argument)
                                      .map(value -> new Ran(TccPhaseOutcome.APPLIED, value));
                                })
                            .compose(
                                outcome -> {
                                  BiFunction<String, TccBranch, Future<Void>> hook = beforeCommit;
                                  return hook == null
                                      ? Future.succeededFuture(outcome)
                                      : hook.apply(action.phaseName(phase), branch).map(outcome);
                                })))
        .recover(
            e ->
                Future.failedFuture(
                    io.shardkit.router.ShardOverloadedException.typed(dataSource, e)));
  }

  private static TccPhaseOutcome outcome(Fence.Step step) {
    return switch (step) {
      case DUPLICATE -> TccPhaseOutcome.DUPLICATE;
      case EMPTY_ROLLBACK -> TccPhaseOutcome.EMPTY_ROLLBACK;
      case RUN -> TccPhaseOutcome.APPLIED;
    };
  }

  @Override
  public Future<Void> setup() {
    List<Future<?>> all = new ArrayList<>();
    for (String ds : pool.dataSourceNames()) {
      all.add(pool.pool(ds).query(Sql.fenceDdl(options)).execute());
    }
    return Future.all(all).mapEmpty();
  }

  @Override
  public Future<Integer> cleanFence() {
    List<Future<Integer>> all = new ArrayList<>();
    for (String ds : pool.dataSourceNames()) {
      all.add(
          TxScope.run(
                  vertx,
                  ScopeOptions.ofTimeout(options.phaseTimeout()),
                  () -> cleanFence(pool.pool(ds)))
              .recover(
                  failure -> {
                    LOG.log(
                        System.Logger.Level.DEBUG,
                        "fence clean-up on " + ds + " skipped: " + failure.getMessage());
                    return Future.succeededFuture(0);
                  }));
    }
    return Future.all(all)
        .map(
            done -> {
              int total = 0;
              for (Future<Integer> f : all) {
                total += f.result();
              }
              return total;
            });
  }

  /**
   * One batch: the global ids come from a consistent (lock-free) read, and the delete runs under
   * READ COMMITTED, so it locks only the rows it deletes and never a gap a phase inserts into.
   */
  private Future<Integer> cleanFence(Pool shard) {
    String cutoff = Sql.nowPlus(options.fenceRetention().negated());
    String table = "`" + options.fenceTable() + "`";
    return shard
        .query(
            "SELECT DISTINCT gid FROM "
                + table
                + " WHERE created_at < "
                + cutoff
                + " LIMIT "
                + CLEANUP_BATCH)
        .execute()
        .compose(
            rows -> {
              List<String> gids = new ArrayList<>();
              for (Row row : rows) {
                gids.add(row.getString(0));
              }
              if (gids.isEmpty()) {
                return Future.succeededFuture(0);
              }
              return LocalTx.run(
                  shard::getConnection, // clean-up, not a transaction step: not timed
                  "READ COMMITTED",
                  conn ->
                      conn.query(
                              "DELETE FROM "
                                  + table
                                  + " WHERE gid IN ("
                                  + Sql.quoteAll(gids)
                                  + ") AND created_at < "
                                  + cutoff)
                          .execute()
                          .map(deleted -> deleted.rowCount()));
            });
  }
}
