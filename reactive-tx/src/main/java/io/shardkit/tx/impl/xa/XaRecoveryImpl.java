package io.shardkit.tx.impl.xa;

import io.shardkit.router.impl.execute.HardClose;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Recovery: per data source, under a lease, {@code XA RECOVER} → keep shardkit's branches of that
 * data source → read their decisions → COMMIT: commit; ABORT: roll back; none and deadline + grace
 * passed: write ABORT (if absent; a COMMIT that won is obeyed) and roll back; otherwise leave it.
 * Then prune decision rows older than the retention that no shard still holds a branch of.
 *
 * <p>The lease is a row per data source in {@code <log>_lease}, locked with {@code SELECT ... FOR
 * UPDATE SKIP LOCKED} in a local transaction held open for the whole pass over that data source:
 * another instance skips a locked row instead of waiting, and a crashed instance's lock goes with
 * its connection. The lease keeps instances from doing the same work; safety does not depend on it,
 * because every action is idempotent and no branch is rolled back without an ABORT row.
 */
final class XaRecoveryImpl implements XaRecovery {

  private static final int PRUNE_BATCH = 500;

  private final XaTransactionsImpl owner;
  private final String instance = UUID.randomUUID().toString();
  private boolean leaseRowsReady;
  private boolean started;
  private long timer = -1;
  private Future<RecoveryReport> inProgress;

  /** Test hook: how long to hold each lease before scanning, so two instances surely overlap. */
  volatile long holdLeaseMillis;

  /** Test hook: hears every branch this instance acted on (xid, "commit" or "rollback"). */
  volatile BiConsumer<Xid, String> actionListener = (xid, action) -> {};

  XaRecoveryImpl(XaTransactionsImpl owner) {
    this.owner = owner;
  }

  @Override
  public synchronized Future<Void> start() {
    if (started) {
      return Future.succeededFuture();
    }
    started = true;
    return runOnce().<Void>mapEmpty().onComplete(ar -> schedule());
  }

  private synchronized void schedule() {
    if (!started) {
      return;
    }
    timer =
        owner
            .vertx()
            .setTimer(
                owner.options().recoveryInterval().toMillis(),
                id -> {
                  synchronized (this) {
                    timer = -1;
                  }
                  runOnce().onComplete(ar -> schedule());
                });
  }

  @Override
  public synchronized Future<Void> stop() {
    started = false;
    if (timer >= 0) {
      owner.vertx().cancelTimer(timer);
      timer = -1;
    }
    return inProgress == null
        ? Future.succeededFuture()
        : inProgress.<Void>mapEmpty().otherwiseEmpty();
  }

  @Override
  public synchronized Future<RecoveryReport> runOnce() {
    if (inProgress != null && !inProgress.isComplete()) {
      return inProgress;
    }
    Promise<RecoveryReport> promise = Promise.promise();
    inProgress = promise.future();
    owner.vertx().runOnContext(v -> pass().onComplete(promise));
    return inProgress;
  }

  /** Counts of one pass; touched on one context only. */
  private static final class Tally {
    int committed;
    int rolledBack;
    int abortsDecided;
    int inDoubt;
    int pruned;
    final Set<String> unreachable = new LinkedHashSet<>();
    final Set<String> leasedElsewhere = new LinkedHashSet<>();

    RecoveryReport report() {
      return new RecoveryReport(
          committed, rolledBack, abortsDecided, inDoubt, pruned, unreachable, leasedElsewhere);
    }
  }

  private Future<RecoveryReport> pass() {
    Tally tally = new Tally();
    Future<Void> chain = ensureLeaseRows();
    for (String ds : owner.allDataSources()) {
      chain = chain.transform(ar -> underLease(ds, tally));
    }
    return chain
        .transform(ar -> prune(tally))
        .transform(
            ar -> {
              owner.recoveryPass(tally.inDoubt, tally.unreachable.size());
              return Future.succeededFuture(tally.report());
            });
  }

  private Future<Void> ensureLeaseRows() {
    if (leaseRowsReady) {
      return Future.succeededFuture();
    }
    List<Object> names = new ArrayList<>(owner.allDataSources());
    StringBuilder values = new StringBuilder();
    for (int i = 0; i < names.size(); i++) {
      values.append(i == 0 ? "(?)" : ", (?)");
    }
    return bounded(
            logPool()
                .preparedQuery(
                    "INSERT IGNORE INTO "
                        + owner.log().leaseTable()
                        + " (data_source) VALUES "
                        + values)
                .execute(Tuple.wrap(names)))
        .onSuccess(rs -> leaseRowsReady = true)
        .mapEmpty();
  }

  private Pool logPool() {
    return owner.pool().pool(owner.options().logDataSource());
  }

  /** One data source's pass, inside the lease transaction; never fails (reports instead). */
  private Future<Void> underLease(String ds, Tally tally) {
    return bounded(logPool().getConnection())
        .compose(
            conn ->
                bounded(conn.begin())
                    .compose(
                        tx ->
                            bounded(
                                    conn.preparedQuery(
                                            "SELECT data_source FROM "
                                                + owner.log().leaseTable()
                                                + " WHERE data_source = ? FOR UPDATE SKIP LOCKED")
                                        .execute(Tuple.of(ds)))
                                .compose(
                                    rows -> {
                                      if (rows.size() == 0) {
                                        tally.leasedElsewhere.add(ds);
                                        return Future.<Void>succeededFuture();
                                      }
                                      return conn.preparedQuery(
                                              "UPDATE "
                                                  + owner.log().leaseTable()
                                                  + " SET holder = ?, taken_at = NOW(3)"
                                                  + " WHERE data_source = ?")
                                          .execute(Tuple.of(instance, ds))
                                          .compose(v -> held())
                                          .compose(v -> scanAndAct(ds, tally));
                                    })
                                .transform(ar -> endLease(conn, tx)))
                    .eventually(conn::close))
        .recover(
            e -> {
              tally.unreachable.add(ds);
              return Future.succeededFuture();
            });
  }

  private Future<Void> held() {
    long hold = holdLeaseMillis;
    if (hold <= 0) {
      return Future.succeededFuture();
    }
    Promise<Void> promise = Promise.promise();
    owner.vertx().setTimer(hold, id -> promise.complete());
    return promise.future();
  }

  private Future<Void> endLease(SqlConnection conn, Transaction tx) {
    return bounded(tx.commit()).otherwiseEmpty();
  }

  private Future<Void> scanAndAct(String ds, Tally tally) {
    return onShard(
            ds,
            conn ->
                recover(conn, ds)
                    .compose(
                        xids -> {
                          if (xids.isEmpty()) {
                            return Future.succeededFuture();
                          }
                          return readDecisions(xids)
                              .compose(
                                  decisions ->
                                      // deadlines are judged on the log server's clock, never
                                      // this instance's (a fast clock would abort live work)
                                      bounded(owner.clock().read())
                                          .map(java.util.Optional::of)
                                          .otherwise(java.util.Optional.empty())
                                          .compose(
                                              now -> {
                                                Future<Void> chain = Future.succeededFuture();
                                                for (Xid xid : xids) {
                                                  chain =
                                                      chain.compose(
                                                          v ->
                                                              act(
                                                                  conn, ds, xid, decisions, now,
                                                                  tally));
                                                }
                                                return chain;
                                              }));
                        }))
        .recover(
            e -> {
              tally.unreachable.add(ds);
              return Future.succeededFuture();
            });
  }

  /**
   * The decisions of these branches' transactions: from the coordinator log, or from the data
   * source each xid names as keeping its decision. A source that cannot be read adds nothing (its
   * branches are then judged undecided: ABORT is tried there, which cannot go wrong).
   */
  private Future<Map<String, Decision>> readDecisions(List<Xid> xids) {
    Map<String, Set<String>> byWhere = new java.util.LinkedHashMap<>();
    for (Xid x : xids) {
      byWhere
          .computeIfAbsent(x.decidedOn() == null ? "" : x.decidedOn(), k -> new HashSet<>())
          .add(x.globalId());
    }
    Map<String, Decision> out = new java.util.HashMap<>();
    List<Future<Void>> reads = new ArrayList<>();
    byWhere.forEach(
        (where, gids) -> {
          Future<Map<String, Decision>> read =
              where.isEmpty()
                  ? bounded(owner.log().read(gids))
                  : bounded(owner.decisions().read(owner.poolOf(where), gids)).otherwise(Map.of());
          reads.add(
              read.map(
                  found -> {
                    out.putAll(found);
                    return (Void) null;
                  }));
        });
    return Future.all(reads).map(v -> out);
  }

  /**
   * Runs {@code work} on a connection of {@code ds}, every step bounded by the rollback timeout: a
   * shard that does not answer makes the pass move on (its connection is closed, not recycled).
   */
  private <T> Future<T> onShard(String ds, Function<SqlConnection, Future<T>> work) {
    return bounded(owner.poolOf(ds).getConnection())
        .compose(
            conn -> {
              Promise<T> promise = Promise.promise();
              long timer =
                  owner
                      .vertx()
                      .setTimer(
                          owner.options().rollbackTimeout().toMillis() * 4,
                          id ->
                              HardClose.close(conn)
                                  .onComplete(
                                      v ->
                                          promise.tryFail(
                                              new IllegalStateException(
                                                  "recovery: " + ds + " did not answer"))));
              Future<T> done;
              try {
                done = work.apply(conn);
              } catch (RuntimeException e) {
                done = Future.failedFuture(e);
              }
              done.onComplete(
                  ar -> {
                    owner.vertx().cancelTimer(timer);
                    if (!promise.future().isComplete()) {
                      conn.close()
                          .onComplete(
                              v -> {
                                if (ar.succeeded()) {
                                  promise.tryComplete(ar.result());
                                } else {
                                  promise.tryFail(ar.cause());
                                }
                              });
                    }
                  });
              return promise.future();
            });
  }

  private <T> Future<T> bounded(Future<T> work) {
    return work.timeout(owner.options().rollbackTimeout().toMillis() * 4, TimeUnit.MILLISECONDS);
  }

  /** shardkit's branches of {@code ds} that {@code XA RECOVER} lists on its server. */
  Future<List<Xid>> recover(SqlConnection conn, String ds) {
    if (owner.isPostgres(ds)) {
      // PostgreSQL: prepared transactions of this database whose gid is shardkit's format and
      // names this source. They belong to no session: any connection may finish them at once.
      return conn.query(
              "SELECT gid FROM pg_prepared_xacts WHERE database = current_database()"
                  + " AND (gid LIKE '"
                  + Xid.PG_PREFIX
                  + "%' OR gid LIKE '"
                  + Xid.PG_DECIDED_ON_PREFIX
                  + "%')")
          .execute()
          .map(
              rows -> {
                List<Xid> out = new ArrayList<>();
                for (Row row : rows) {
                  Xid.fromPgGid(row.getString(0))
                      .filter(x -> x.dataSource().equals(ds))
                      .ifPresent(out::add);
                }
                return out;
              });
    }
    return conn.query("XA RECOVER")
        .execute()
        .map(
            rows -> {
              List<Xid> out = new ArrayList<>();
              for (Row row : rows) {
                Xid.fromRecover(
                        row.getInteger("formatID"),
                        row.getInteger("gtrid_length"),
                        row.getInteger("bqual_length"),
                        row.getBuffer("data"))
                    .filter(x -> x.dataSource().equals(ds))
                    .ifPresent(out::add);
              }
              return out;
            });
  }

  private Future<Void> act(
      SqlConnection conn,
      String ds,
      Xid xid,
      Map<String, Decision> decisions,
      java.util.Optional<Long> serverNow,
      Tally tally) {
    Decision decision = decisions.get(xid.globalId());
    if (decision != null) {
      return finish(conn, ds, xid, decision, false, tally);
    }
    long expiredAt = xid.deadlineEpochMillis() + owner.options().recoveryGrace().toMillis();
    // without the log server's time (unreachable) nothing undecided is judged expired
    if (serverNow.isEmpty() || serverNow.get() < expiredAt) {
      tally.inDoubt++;
      return Future.succeededFuture();
    }
    Future<CoordinatorLog.Decided> abort =
        xid.decidedOn() == null
            ? owner.log().decideReporting(xid.globalId(), Decision.ROLLBACK, List.of(), "recovery")
            : owner
                .decisions()
                .decide(owner.poolOf(xid.decidedOn()), xid.globalId(), Decision.ROLLBACK);
    return bounded(abort)
        .transform(
            ar -> {
              if (ar.failed()) {
                tally.inDoubt++;
                return Future.succeededFuture();
              }
              if (ar.result().inserted()) {
                tally.abortsDecided++;
              }
              return finish(conn, ds, xid, ar.result().decision(), ar.result().inserted(), tally);
            });
  }

  private Future<Void> finish(
      SqlConnection conn, String ds, Xid xid, Decision decision, boolean decidedHere, Tally tally) {
    boolean commit = decision == Decision.COMMIT;
    String action = commit ? "commit" : "rollback";
    Branch kind = new Branch(ds, xid, owner.isPostgres(ds));
    return conn.query(commit ? kind.commitSql() : kind.rollbackPreparedSql())
        .execute()
        .transform(
            ar -> {
              if (ar.succeeded()) {
                if (commit) {
                  tally.committed++;
                } else {
                  tally.rolledBack++;
                }
                actionListener.accept(xid, action);
                owner.recovered(ds, action, decidedHere);
                // deadline → finished by recovery, per branch (0 when finished before it)
                io.micrometer.core.instrument.Timer.builder("shardkit.tx.recovery.latency")
                    .description("Time from a transaction's deadline to recovery finishing it")
                    .tag("mode", XaTransactionsImpl.MODE)
                    .register(owner.options().meterRegistry())
                    .record(
                        java.time.Duration.ofMillis(
                            Math.max(0, owner.clock().now() - xid.deadlineEpochMillis())));
              } else if (SqlErrors.fromServer(ar.cause())) {
                // 1397: still attached to its coordinator's connection, or finished meanwhile.
                tally.inDoubt++;
              } else {
                return Future.failedFuture(ar.cause());
              }
              return Future.<Void>succeededFuture();
            });
  }

  /**
   * Deletes decision rows older than the retention whose transaction has no branch left on any
   * shard, in the coordinator log and in every participant's decision table. The rows are read
   * before the shards are scanned: a COMMIT row exists only once every other branch is prepared, so
   * a branch absent from the later scan is finished for good.
   */
  private Future<Void> prune(Tally tally) {
    if (!tally.unreachable.isEmpty()) {
      return Future.succeededFuture();
    }
    long retention = owner.options().logRetention().toMillis();
    Map<String, List<String>> candidates = new java.util.LinkedHashMap<>();
    Future<Void> listed =
        bounded(owner.log().olderThan(retention, PRUNE_BATCH))
            .map(
                gids -> {
                  candidates.put("", gids);
                  return (Void) null;
                });
    for (String ds : owner.decidingDataSources()) {
      listed =
          listed.compose(
              v ->
                  bounded(owner.decisions().olderThan(owner.poolOf(ds), retention, PRUNE_BATCH))
                      .map(
                          gids -> {
                            candidates.put(ds, gids);
                            return (Void) null;
                          }));
    }
    return listed
        .compose(
            v -> {
              if (candidates.values().stream().allMatch(List::isEmpty)) {
                return Future.succeededFuture();
              }
              List<Future<List<Xid>>> scans = new ArrayList<>();
              for (String ds : owner.allDataSources()) {
                scans.add(onShard(ds, conn -> recover(conn, ds)));
              }
              return Future.all(scans)
                  .compose(
                      all -> {
                        Set<String> alive = new HashSet<>();
                        for (int i = 0; i < all.size(); i++) {
                          List<Xid> xids = all.resultAt(i);
                          xids.forEach(x -> alive.add(x.globalId()));
                        }
                        Future<Void> deletes = Future.succeededFuture();
                        for (Map.Entry<String, List<String>> e : candidates.entrySet()) {
                          List<String> done = new ArrayList<>(e.getValue());
                          done.removeAll(alive);
                          String where = e.getKey();
                          deletes =
                              deletes.compose(
                                  x ->
                                      (where.isEmpty()
                                              ? owner.log().delete(done)
                                              : owner.decisions().delete(owner.poolOf(where), done))
                                          .map(
                                              n -> {
                                                tally.pruned += n;
                                                return (Void) null;
                                              }));
                        }
                        return deletes;
                      });
            })
        .otherwiseEmpty();
  }
}
