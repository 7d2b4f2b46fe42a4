package io.shardkit.tx.tcc;

import io.shardkit.context.ShardkitException;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccTransaction;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The TCC bank used by the tests: accounts {@code (id, balance, frozen, incoming)} sharded by id.
 * {@code debit} freezes on try (balance → frozen), applies on confirm (frozen leaves), unfreezes on
 * cancel (frozen → balance); {@code credit} records the incoming amount on try, applies it on
 * confirm (incoming → balance), drops it on cancel. So after every transaction has finished, frozen
 * and incoming are 0 everywhere and the sum of balances is unchanged; a phase applied twice or a
 * half-applied transfer breaks one of the three.
 */
final class Bank {

  /** The argument of both actions. */
  record Move(long account, long amount) {
    JsonObject toJson() {
      return new JsonObject().put("account", account).put("amount", amount);
    }

    static Move fromJson(JsonObject json) {
      return new Move(json.getLong("account"), json.getLong("amount"));
    }
  }

  static final TccCodec<Move> CODEC = TccCodec.of(Move::toJson, Move::fromJson);
  static final String DDL =
      "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
          + " frozen BIGINT NOT NULL DEFAULT 0, incoming BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB";

  static final String FREEZE =
      "UPDATE account SET balance = balance - ?, frozen = frozen + ? WHERE id = ? AND balance >= ?";
  static final String APPLY_DEBIT = "UPDATE account SET frozen = frozen - ? WHERE id = ?";
  static final String UNFREEZE =
      "UPDATE account SET balance = balance + ?, frozen = frozen - ? WHERE id = ?";
  static final String HOLD_INCOMING = "UPDATE account SET incoming = incoming + ? WHERE id = ?";
  static final String APPLY_CREDIT =
      "UPDATE account SET incoming = incoming - ?, balance = balance + ? WHERE id = ?";
  static final String DROP_INCOMING = "UPDATE account SET incoming = incoming - ? WHERE id = ?";
  static final java.util.List<String> STATEMENTS =
      java.util.List.of(FREEZE, APPLY_DEBIT, UNFREEZE, HOLD_INCOMING, APPLY_CREDIT, DROP_INCOMING);

  /** How many times each action's phase ran its business statements: "debit.try" → n. */
  final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

  final TccAction<Move> debit;
  final TccAction<Move> credit;

  Bank() {
    this("debit", "credit");
  }

  Bank(String debitName, String creditName) {
    debit =
        TccAction.builder(debitName, CODEC)
            .shardedBy("account", Move::account)
            .onTry(
                (ctx, m) ->
                    count(debitName + ".try")
                        .compose(
                            v ->
                                ctx.client()
                                    .preparedQuery(FREEZE)
                                    .execute(
                                        Tuple.of(m.amount(), m.amount(), m.account(), m.amount())))
                        .compose(
                            rows ->
                                rows.rowCount() == 1
                                    ? Future.<Void>succeededFuture()
                                    : Future.failedFuture(
                                        new ShardkitException(
                                            "insufficient funds on account " + m.account()))))
            .onConfirm(
                (ctx, m) ->
                    count(debitName + ".confirm")
                        .compose(
                            v ->
                                ctx.client()
                                    .preparedQuery(APPLY_DEBIT)
                                    .execute(Tuple.of(m.amount(), m.account())))
                        .mapEmpty())
            .onCancel(
                (ctx, m) ->
                    count(debitName + ".cancel")
                        .compose(
                            v ->
                                ctx.client()
                                    .preparedQuery(UNFREEZE)
                                    .execute(Tuple.of(m.amount(), m.amount(), m.account())))
                        .mapEmpty())
            .build();
    credit =
        TccAction.builder(creditName, CODEC)
            .shardedBy("account", Move::account)
            .onTry(
                (ctx, m) ->
                    count(creditName + ".try")
                        .compose(
                            v ->
                                ctx.client()
                                    .preparedQuery(HOLD_INCOMING)
                                    .execute(Tuple.of(m.amount(), m.account())))
                        .compose(
                            rows ->
                                rows.rowCount() == 1
                                    ? Future.<Void>succeededFuture()
                                    : Future.failedFuture(
                                        new ShardkitException("no account " + m.account()))))
            .onConfirm(
                (ctx, m) ->
                    count(creditName + ".confirm")
                        .compose(
                            v ->
                                ctx.client()
                                    .preparedQuery(APPLY_CREDIT)
                                    .execute(Tuple.of(m.amount(), m.amount(), m.account())))
                        .mapEmpty())
            .onCancel(
                (ctx, m) ->
                    count(creditName + ".cancel")
                        .compose(
                            v ->
                                ctx.client()
                                    .preparedQuery(DROP_INCOMING)
                                    .execute(Tuple.of(m.amount(), m.account())))
                        .mapEmpty())
            .build();
  }

  /** A transfer in {@code tx}: debit {@code from} and credit {@code to}, enlisted together. */
  Future<Void> transfer(TccTransaction tx, long from, long to, long amount) {
    return Future.all(
            tx.enlist(debit, new Move(from, amount)), tx.enlist(credit, new Move(to, amount)))
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

  /** Drops and recreates the account table and the TCC tables on every shard. */
  static void reset(ShardDatabases databases, TccOptions options) {
    databases.executeOnAll(
        "DROP TABLE IF EXISTS account",
        "DROP TABLE IF EXISTS " + options.fenceTable(),
        "DROP TABLE IF EXISTS " + options.txTable(),
        DDL);
  }

  /** Opens accounts {@code 0..count-1} with {@code balance} each, on the shard {@code id mod n}. */
  static void open(ShardDatabases databases, int count, long balance) {
    int shards = databases.size();
    for (int s = 0; s < shards; s++) {
      StringBuilder sql = new StringBuilder("INSERT INTO account (id, balance) VALUES ");
      boolean first = true;
      for (int id = s; id < count; id += shards) {
        sql.append(first ? "" : ", ")
            .append('(')
            .append(id)
            .append(", ")
            .append(balance)
            .append(')');
        first = false;
      }
      if (!first) {
        databases.get(s).execute(sql.toString());
      }
    }
  }

  /** {@code {balance, frozen, incoming}} of an account. */
  static long[] account(ShardDatabases databases, long id) {
    List<JsonObject> rows =
        databases
            .get((int) (id % databases.size()))
            .query("SELECT balance, frozen, incoming FROM account WHERE id = " + id);
    JsonObject row = rows.get(0);
    return new long[] {row.getLong("balance"), row.getLong("frozen"), row.getLong("incoming")};
  }

  /** Sums over every shard: {@code {balance, frozen, incoming}}. */
  static long[] totals(ShardDatabases databases) {
    long[] sum = new long[3];
    for (int s = 0; s < databases.size(); s++) {
      JsonObject row =
          databases
              .get(s)
              .query(
                  "SELECT COALESCE(SUM(balance), 0) AS b, COALESCE(SUM(frozen), 0) AS f,"
                      + " COALESCE(SUM(incoming), 0) AS i FROM account")
              .get(0);
      sum[0] += Long.parseLong(String.valueOf(row.getValue("b")));
      sum[1] += Long.parseLong(String.valueOf(row.getValue("f")));
      sum[2] += Long.parseLong(String.valueOf(row.getValue("i")));
    }
    return sum;
  }

  /** The fence rows of a branch on a shard: phase → origin. */
  static Map<Integer, Integer> fence(
      ShardDatabases databases, int shard, TccOptions options, String gid, String branch) {
    Map<Integer, Integer> rows = new java.util.TreeMap<>();
    for (JsonObject row :
        databases
            .get(shard)
            .query(
                "SELECT phase, origin FROM "
                    + options.fenceTable()
                    + " WHERE gid = '"
                    + gid
                    + "' AND branch_id = '"
                    + branch
                    + "'")) {
      rows.put(row.getInteger("phase"), row.getInteger("origin"));
    }
    return rows;
  }
}
