package io.shardkit.tx.check;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardkit.router.ReplicaStatus;
import io.shardkit.router.ShardedPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Proves from the data itself that the system is consistent, while the application keeps running:
 * every copy of a row agrees (broadcast tables on every data source, each read replica with its
 * primary) and every global transaction is applied everywhere or nowhere (XA branches against the
 * shards' binary logs and the coordinator log, TCC and Saga log rows against their branches' fence
 * rows). The entry point of the checker; {@code CheckMain} is the command.
 *
 * <pre>{@code
 * ConsistencyChecker checker =
 *     ConsistencyChecker.create(vertx, pool, CheckOptions.defaults(transactionsOptions));
 * checker.check().onSuccess(report -> System.out.println(report.summary()));
 * }</pre>
 *
 * <p>Non-blocking; reads only (it never repairs). Meters: {@code shardkit.check.rows} (rows
 * compared), {@code shardkit.check.mismatches} (anomalies, by {@code kind}), {@code
 * shardkit.check.duration} (by {@code check} = copies/transactions).
 */
public final class ConsistencyChecker {

  private final Vertx vertx;
  private final ShardedPool pool;
  private final CheckOptions options;
  private final MeterRegistry registry;
  private final Set<String> skippedTables;

  private ConsistencyChecker(
      Vertx vertx,
      ShardedPool pool,
      CheckOptions options,
      MeterRegistry registry,
      Set<String> skippedTables) {
    this.vertx = vertx;
    this.pool = pool;
    this.options = options;
    this.registry = registry;
    this.skippedTables = skippedTables;
  }

  /**
   * A checker over the pool's data sources and replicas; meters go to the global registry. The
   * pool's read/write-splitting heartbeat table ({@code shardkit_heartbeat}) is not compared: it
   * changes every few hundred milliseconds by design.
   */
  public static ConsistencyChecker create(Vertx vertx, ShardedPool pool, CheckOptions options) {
    return create(vertx, pool, options, io.micrometer.core.instrument.Metrics.globalRegistry);
  }

  public static ConsistencyChecker create(
      Vertx vertx, ShardedPool pool, CheckOptions options, MeterRegistry registry) {
    return new ConsistencyChecker(
        vertx,
        pool,
        options,
        registry,
        Set.of(io.shardkit.router.ReadWriteSplittingOptions.DEFAULT_HEARTBEAT_TABLE));
  }

  /** Copies, then transactions (when the options name the transaction layer). */
  public Future<CheckReport> check() {
    CheckReport report = new CheckReport(options.maxAnomalies());
    return timed("copies", copies(report))
        .compose(v -> timed("transactions", transactions(report)))
        .map(v -> finish(report));
  }

  /** Broadcast tables and replicas only. */
  public Future<CheckReport> checkCopies() {
    CheckReport report = new CheckReport(options.maxAnomalies());
    return timed("copies", copies(report)).map(v -> finish(report));
  }

  /** Global transactions only. */
  public Future<CheckReport> checkTransactions() {
    CheckReport report = new CheckReport(options.maxAnomalies());
    return timed("transactions", transactions(report)).map(v -> finish(report));
  }

  private CheckReport finish(CheckReport report) {
    report.finish();
    Long rows = report.counts().get("rows compared");
    Counter.builder("shardkit.check.rows")
        .description("rows the consistency checker compared")
        .register(registry)
        .increment(rows == null ? 0 : rows);
    for (Anomaly.Kind kind : Anomaly.Kind.values()) {
      long n = report.anomalies().stream().filter(a -> a.kind() == kind).count();
      Counter c =
          Counter.builder("shardkit.check.mismatches")
              .description("anomalies the consistency checker found")
              .tag("kind", kind.name())
              .register(registry);
      if (n > 0) {
        c.increment(n);
      }
    }
    return report;
  }

  private Future<Void> timed(String check, Future<Void> work) {
    long start = System.nanoTime();
    return work.onComplete(
        ar ->
            Timer.builder("shardkit.check.duration")
                .description("how long a consistency check took")
                .tag("check", check)
                .register(registry)
                .record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS));
  }

  private Future<Void> transactions(CheckReport report) {
    if (options.transactions() == null) {
      report.note("no transaction options given: global transactions not checked");
      return Future.succeededFuture();
    }
    return new TransactionCheck(pool, options, report).run();
  }

  private Future<Void> copies(CheckReport report) {
    return broadcast(report).compose(v -> replicas(report));
  }

  private Future<Void> broadcast(CheckReport report) {
    List<String> sources = new ArrayList<>(pool.rules().dataSourceNames());
    if (sources.size() < 2 || pool.rules().broadcastTables().isEmpty()) {
      return Future.succeededFuture();
    }
    String reference = sources.get(0);
    List<CopyCheck.Copy> copies = new ArrayList<>();
    for (String ds : sources.subList(1, sources.size())) {
      copies.add(new CopyCheck.Copy(ds, pool.pool(ds), null));
    }
    CopyCheck check = new CopyCheck(vertx, options, report, Anomaly.Kind.BROADCAST_COPY_DIFFERS);
    Future<Void> chain = Future.succeededFuture();
    for (String table : pool.rules().broadcastTables()) {
      chain = chain.compose(v -> check.compare(table, reference, pool.pool(reference), copies));
    }
    return chain;
  }

  private Future<Void> replicas(CheckReport report) {
    Map<String, List<ReplicaStatus>> byDataSource = new TreeMap<>();
    for (ReplicaStatus s : pool.replicaStatus()) {
      byDataSource.computeIfAbsent(s.dataSource(), k -> new ArrayList<>()).add(s);
    }
    CopyCheck check = new CopyCheck(vertx, options, report, Anomaly.Kind.REPLICA_DIFFERS);
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<String, List<ReplicaStatus>> e : byDataSource.entrySet()) {
      String ds = e.getKey();
      Pool primary = pool.pool(ds);
      List<CopyCheck.Copy> copies = new ArrayList<>();
      for (ReplicaStatus s : e.getValue()) {
        Pool replica = pool.replicaPool(s.replica());
        copies.add(
            new CopyCheck.Copy(ds + "/" + s.replica(), replica, v -> catchUp(primary, replica)));
      }
      chain =
          chain.compose(
              v ->
                  primary
                      .query(
                          "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA ="
                              + " DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME")
                      .execute()
                      .compose(
                          tables -> {
                            Future<Void> each = Future.succeededFuture();
                            for (var row : tables) {
                              String table = row.getString(0);
                              if (skippedTables.contains(table)) {
                                continue;
                              }
                              each = each.compose(w -> check.compare(table, ds, primary, copies));
                            }
                            return each;
                          }));
    }
    return chain;
  }

  /**
   * Waits until the replica applied what the primary had written when called (MariaDB: {@code
   * MASTER_GTID_WAIT} on {@code @@gtid_binlog_pos}; MySQL: {@code WAIT_FOR_EXECUTED_GTID_SET}).
   */
  private Future<Void> catchUp(Pool primary, Pool replica) {
    double seconds = Math.max(0.001, options.replicaCatchUp().toMillis() / 1000.0);
    return primary
        .query("SELECT @@gtid_binlog_pos")
        .execute()
        .compose(
            rows -> {
              String pos = String.valueOf(rows.iterator().next().getValue(0));
              return replica
                  .query("SELECT MASTER_GTID_WAIT('" + pos.replace("'", "") + "', " + seconds + ")")
                  .execute();
            })
        .recover(
            mariaDbFailed ->
                primary
                    .query("SELECT @@GLOBAL.gtid_executed")
                    .execute()
                    .compose(
                        rows ->
                            replica
                                .query(
                                    "SELECT WAIT_FOR_EXECUTED_GTID_SET('"
                                        + String.valueOf(rows.iterator().next().getValue(0))
                                            .replace("'", "")
                                        + "', "
                                        + seconds
                                        + ")")
                                .execute()))
        .<Void>mapEmpty()
        .otherwiseEmpty();
  }
}
