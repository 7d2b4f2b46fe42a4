package io.shardkit.tx.tcc;

import io.shardkit.context.ShardkitException;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccPhaseContext;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Saga steps over {@link Bank}'s accounts. Every action and compensation also writes a journal row
 * ({@code saga_journal}, on the account's shard, in the same local transaction), so a test can tell
 * from the data alone what each saga applied and undid, and in which order ({@code at}, microsecond
 * time of the shards, which run on one host).
 *
 * <ul>
 *   <li>{@code debit}: subtracts, refusing to go below zero; compensation adds back;
 *   <li>{@code credit}: adds; compensation subtracts (compensatable credit: only where the test
 *       controls that nothing spends it meanwhile);
 *   <li>{@code deposit}: retry-only credit (the pivot of a transfer); {@link #failDeposits} makes
 *       its next attempts fail, as a shard that refuses would.
 * </ul>
 */
final class SagaBank {

  static final String JOURNAL_DDL =
      "CREATE TABLE saga_journal (gid VARCHAR(64) NOT NULL, branch_id VARCHAR(64) NOT NULL,"
          + " step VARCHAR(32) NOT NULL, kind VARCHAR(16) NOT NULL, account BIGINT NOT NULL,"
          + " delta BIGINT NOT NULL, at DATETIME(6) NOT NULL,"
          + " PRIMARY KEY (gid, branch_id, kind)) ENGINE=InnoDB";

  final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
  final AtomicInteger failDeposits = new AtomicInteger();

  final SagaStep<Bank.Move, Long> debit;
  final SagaStep<Bank.Move, Void> credit;
  final SagaStep<Bank.Move, Void> deposit;

  SagaBank() {
    this("");
  }

  /** Steps named {@code prefix + "debit"} etc. (e.g. a second service's steps: "account.debit"). */
  SagaBank(String prefix) {
    debit =
        SagaStep.builder(prefix + "debit", Bank.CODEC)
            .shardedBy("account", Bank.Move::account)
            .action(
                (ctx, m) ->
                    count("debit.action")
                        .compose(
                            v ->
                                ctx.connection()
                                    .preparedQuery(
                                        "UPDATE account SET balance = balance - ? WHERE id = ?"
                                            + " AND balance >= ?")
                                    .execute(Tuple.of(m.amount(), m.account(), m.amount())))
                        .compose(
                            rows ->
                                rows.rowCount() == 1
                                    ? journal(ctx, "action", m.account(), -m.amount())
                                    : Future.failedFuture(
                                        new ShardkitException(
                                            "insufficient funds on account " + m.account())))
                        .map(v -> m.amount()))
            .compensation(
                (ctx, m) ->
                    count("debit.compensation")
                        .compose(v -> add(ctx, m.account(), m.amount()))
                        .compose(v -> journal(ctx, "compensation", m.account(), m.amount())))
            .build();
    credit =
        SagaStep.builder(prefix + "credit", Bank.CODEC)
            .shardedBy("account", Bank.Move::account)
            .<Void>action(
                (ctx, m) ->
                    count("credit.action")
                        .compose(v -> add(ctx, m.account(), m.amount()))
                        .compose(v -> journal(ctx, "action", m.account(), m.amount())))
            .compensation(
                (ctx, m) ->
                    count("credit.compensation")
                        .compose(v -> add(ctx, m.account(), -m.amount()))
                        .compose(v -> journal(ctx, "compensation", m.account(), -m.amount())))
            .build();
    deposit =
        SagaStep.builder(prefix + "deposit", Bank.CODEC)
            .shardedBy("account", Bank.Move::account)
            .retryOnly()
            .<Void>action(
                (ctx, m) -> {
                  count("deposit.attempt");
                  if (failDeposits.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    return Future.failedFuture(new ShardkitException("deposit refused (test)"));
                  }
                  return count("deposit.action")
                      .compose(v -> add(ctx, m.account(), m.amount()))
                      .compose(v -> journal(ctx, "action", m.account(), m.amount()));
                })
            .build();
  }

  private static Future<Void> add(TccPhaseContext ctx, long account, long delta) {
    return ctx.connection()
        .preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
        .execute(Tuple.of(delta, account))
        .mapEmpty();
  }

  private static Future<Void> journal(TccPhaseContext ctx, String kind, long account, long delta) {
    return ctx.connection()
        .preparedQuery(
            "INSERT INTO saga_journal (gid, branch_id, step, kind, account, delta, at)"
                + " VALUES (?, ?, ?, ?, ?, ?, SYSDATE(6))")
        .execute(Tuple.of(ctx.globalId(), ctx.branchId(), ctx.action(), kind, account, delta))
        .mapEmpty();
  }

  private Future<Void> count(String key) {
    runs.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    return Future.succeededFuture();
  }

  int runs(String key) {
    AtomicInteger n = runs.get(key);
    return n == null ? 0 : n.get();
  }

  /** Every journal row of every shard, oldest first. */
  static List<JsonObject> journal(ShardDatabases databases) {
    List<JsonObject> rows = new ArrayList<>();
    for (int s = 0; s < databases.size(); s++) {
      rows.addAll(
          databases
              .get(s)
              .query(
                  "SELECT gid, branch_id, step, kind, account, delta,"
                      + " DATE_FORMAT(at, '%Y%m%d%H%i%s%f') AS at FROM saga_journal"));
    }
    rows.sort(java.util.Comparator.comparing(r -> r.getString("at")));
    return rows;
  }

  static void reset(ShardDatabases databases, io.shardkit.tx.TccOptions options) {
    Bank.reset(databases, options);
    databases.executeOnAll("DROP TABLE IF EXISTS saga_journal", JOURNAL_DDL);
  }
}
