package io.shardkit.examples;

import io.shardkit.context.TxScope;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabase;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestPostgres;
import io.shardkit.testkit.TestRedis;
import io.shardkit.testkit.TestShards;
import io.shardkit.tx.PostgresSourceOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.outbox.Outbox;
import io.shardkit.tx.outbox.OutboxOptions;
import io.shardkit.tx.outbox.OutboxRelay;
import io.shardkit.tx.redis.RedisEffect;
import io.shardkit.tx.redis.RedisEffects;
import io.shardkit.tx.redis.RedisSources;
import io.shardkit.tx.redis.RedisTxOptions;
import io.shardkit.tx.redis.VersionedCache;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisOptions;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

/**
 * One transaction across three kinds of server: money moves between accounts sharded over two
 * MariaDB shards, each transfer writes a row into a PostgreSQL {@code ledger} in the same global XA
 * transaction, and records, in that transaction too, what must happen to a Redis read-through cache
 * of balances once it has committed (a versioned eviction or refresh, through the transactional
 * outbox; a relay runs it after the commit). One transfer is refused for insufficient funds after
 * it has written to all three: the caller gets its own exception and nothing of it remains. At the
 * end every balance is read through the cache and checked against the database.
 *
 * <p>Starts two embedded MariaDB shards, an embedded PostgreSQL 14 and the OS {@code redis-server}
 * (testkit), and closes them all before it ends.
 */
public final class MultiSourceExample {

  private MultiSourceExample() {}

  /** The user's own refusal; the transaction is rolled back and the caller gets it as is. */
  static final class InsufficientFundsException extends RuntimeException {
    InsufficientFundsException(long account, long amount) {
      super("account " + account + " cannot pay " + amount);
    }
  }

  /** A transfer of the run; {@code refresh}: refresh the cached balances, else evict them. */
  record Transfer(int id, long from, long to, long amount, boolean refresh) {}

  static final Map<Long, Long> OPENING = new LinkedHashMap<>();

  static {
    OPENING.put(1L, 100L); // account 1 on ds_1 (id mod 2)
    OPENING.put(2L, 200L); // ds_0
    OPENING.put(3L, 150L); // ds_1
    OPENING.put(4L, 50L); // ds_0
  }

  static final List<Transfer> TRANSFERS =
      List.of(
          new Transfer(1, 1, 2, 30, false),
          new Transfer(2, 2, 3, 50, true),
          new Transfer(3, 4, 1, 500, false), // account 4 has 50: refused
          new Transfer(4, 3, 4, 120, true),
          new Transfer(5, 4, 1, 70, false));

  static final String LEDGER = "ledger"; // the PostgreSQL source's name
  static final String CACHE = "cache"; // the Redis source's name

  public static void main(String[] args) throws Exception {
    try (TestShards shards = TestShards.start(2);
        TestPostgres pg = TestPostgres.start();
        TestRedis redis = TestRedis.startDurable()) {
      ShardDatabases databases = shards.createDatabases("multi_source_example", 2);
      databases.executeOnAll(
          "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
              + " version BIGINT NOT NULL DEFAULT 0)");
      for (Map.Entry<Long, Long> account : OPENING.entrySet()) {
        shardOf(databases, account.getKey())
            .execute(
                "INSERT INTO account (id, balance) VALUES ("
                    + account.getKey()
                    + ", "
                    + account.getValue()
                    + ")");
      }
      pg.execute(
          "CREATE TABLE ledger (transfer_id INT PRIMARY KEY, global_id TEXT NOT NULL,"
              + " from_account BIGINT NOT NULL, to_account BIGINT NOT NULL,"
              + " amount BIGINT NOT NULL CHECK (amount > 0),"
              + " recorded_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      System.out.printf(
          "started: 2 MariaDB shards, %s (max_prepared_transactions=%d), Redis on port %d%n",
          pg.name(), pg.maxPreparedTransactions(), redis.port());

      Vertx vertx = Vertx.vertx();
      ShardingRules rules =
          ShardingRules.builder()
              .table(
                  "account", t -> t.dataNodes("ds_${0..1}.account").databaseStrategy("id", "mod"))
              .table(
                  "shardkit_outbox",
                  t ->
                      t.dataNodes("ds_${0..1}.shardkit_outbox")
                          .databaseStrategy("aggregate_key", "mod"))
              .build();
      ShardedPool pool =
          ShardedPool.builder(vertx)
              .rules(rules)
              .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(4))
              .transactionManager(
                  p ->
                      Transactions.create(
                          vertx,
                          p,
                          TransactionsOptions.builder("ds_0")
                              .postgres(LEDGER, new PostgresSourceOptions(pg.connectOptions()))
                              .build()))
              .build();
      RedisSources redisSources =
          RedisSources.builder(vertx, RedisTxOptions.defaults())
              .source(CACHE, new RedisOptions().setConnectionString(redis.uri()))
              .build();
      Transactions transactions = Transactions.of(pool);
      OutboxRelay relay = null;
      try {
        join(transactions.installSchema());
        join(transactions.warmUp()); // refuses a PostgreSQL without max_prepared_transactions
        Outbox outbox =
            Outbox.create(
                vertx, pool, OutboxOptions.builder().pollInterval(Duration.ofMillis(20)).build());
        join(outbox.installSchema());
        RedisEffects effects = RedisEffects.create(outbox, redisSources);
        VersionedCache cache = VersionedCache.of(redisSources, CACHE, null);
        relay = outbox.relay(effects.sink(redisSources));
        join(relay.start());

        // readers fill the cache first, so that the transfers' effects have entries to act on
        for (long account : OPENING.keySet()) {
          join(readThrough(pool, cache, account));
        }
        System.out.println("cache filled by read-through reads " + describe(cache, 1L, 2L, 3L, 4L));

        int committed = 0;
        int rolledBack = 0;
        for (Transfer transfer : TRANSFERS) {
          long outboxRowsBefore = outboxRows(databases);
          Map<Long, List<String>> cachedBefore = cacheEntries(cache);
          long creditedBefore = balance(databases, transfer.to());
          try {
            join(transfer(pool, transactions, effects, transfer));
          } catch (CompletionException e) {
            if (!(e.getCause() instanceof InsufficientFundsException refused)) {
              throw e;
            }
            rolledBack++;
            System.out.printf(
                "transfer %d (account %d -> %d, %d): rolled back, %s: %s; %s, %s, %s%n",
                transfer.id(),
                transfer.from(),
                transfer.to(),
                transfer.amount(),
                refused.getClass().getSimpleName(),
                refused.getMessage(),
                ledgerRows(pg, transfer.id()) == 0 ? "no ledger row" : "A LEDGER ROW",
                outboxRows(databases) == outboxRowsBefore
                        && cacheEntries(cache).equals(cachedBefore)
                    ? "no cache effect"
                    : "A CACHE EFFECT",
                "account "
                    + transfer.to()
                    + "'s credit "
                    + (balance(databases, transfer.to()) == creditedBefore ? "undone" : "KEPT")
                    + " (balance "
                    + balance(databases, transfer.to())
                    + ")");
            continue;
          }
          committed++;
          awaitRelayed(databases);
          System.out.printf(
              "transfer %d (account %d -> %d, %d): committed, ledger row %d, cache %s %s%n",
              transfer.id(),
              transfer.from(),
              transfer.to(),
              transfer.amount(),
              ledgerRows(pg, transfer.id()) == 1 ? transfer.id() : -1,
              transfer.refresh() ? "refreshed" : "evicted",
              describe(cache, transfer.from(), transfer.to()));
        }

        // the relay has run every effect: read every balance through the cache, then compare
        awaitRelayed(databases);
        int equal = 0;
        long total = 0;
        for (long account : OPENING.keySet()) {
          ReadResult read = join(readThrough(pool, cache, account));
          JsonObject row =
              shardOf(databases, account)
                  .query("SELECT balance, version FROM account WHERE id = " + account)
                  .get(0);
          List<String> entry = join(cache.entry(key(account)));
          boolean same =
              read.balance() == row.getLong("balance")
                  && String.valueOf(row.getLong("balance")).equals(entry.get(1))
                  && String.valueOf(row.getLong("version")).equals(entry.get(0));
          equal += same ? 1 : 0;
          total += row.getLong("balance");
          System.out.printf(
              "account %d: read %d (%s), cached %s at version %s, database %d at version %d: %s%n",
              account,
              read.balance(),
              read.hit() ? "cache hit" : "cache miss, read from the database and cached",
              entry.get(1),
              entry.get(0),
              row.getLong("balance"),
              row.getLong("version"),
              same ? "equal" : "DIFFERENT");
        }
        for (JsonObject row :
            pg.query(
                "SELECT transfer_id, from_account, to_account, amount, global_id FROM ledger"
                    + " ORDER BY transfer_id")) {
          System.out.println("ledger row: " + row.encode());
        }
        long opening = OPENING.values().stream().mapToLong(Long::longValue).sum();
        int ledgerRows = pg.query("SELECT count(*) AS n FROM ledger").get(0).getInteger("n");
        long prepared = pg.preparedTransactions().size();
        for (ShardDatabase db : databases.all()) {
          prepared += db.query("XA RECOVER").size();
        }
        System.out.printf(
            "cache consistent: %d of %d cached balances equal the database%n",
            equal, OPENING.size());
        System.out.printf("money conserved: %d before, %d after%n", opening, total);
        System.out.printf(
            "ledger: %d rows for %d committed transfers; prepared transactions left: %d%n",
            ledgerRows, committed, prepared);
        boolean consistent =
            equal == OPENING.size() && total == opening && ledgerRows == committed && prepared == 0;
        System.out.printf(
            "multi-source example: done, %d transfers committed, %d rolled back, %s%n",
            committed, rolledBack, consistent ? "consistent" : "INCONSISTENT");
        if (!consistent) {
          throw new IllegalStateException("the sources disagree: see the lines above");
        }
      } finally {
        if (relay != null) {
          join(relay.stop());
        }
        join(transactions.close());
        join(pool.close());
        join(redisSources.close());
        databases.close();
        join(vertx.close());
      }
    }
  }

  /**
   * One global XA transaction over the MariaDB shards and the PostgreSQL ledger. The debit comes
   * last on purpose: when it is refused, the credit, the ledger row and the recorded cache effect
   * written before it are all rolled back with it.
   */
  static Future<Void> transfer(
      ShardedPool pool, Transactions transactions, RedisEffects effects, Transfer t) {
    return pool.withTransaction(
        Duration.ofSeconds(5),
        conn ->
            conn.preparedQuery(
                    "UPDATE account SET balance = balance + ?, version = version + 1 WHERE id = ?")
                .execute(Tuple.of(t.amount(), t.to()))
                .compose(credited -> cacheAfterCommit(conn, effects, t.to(), t.refresh()))
                .compose(recorded -> transactions.postgres(LEDGER)) // enlists PostgreSQL
                .compose(
                    ledger ->
                        ledger
                            .preparedQuery(
                                "INSERT INTO ledger (transfer_id, global_id, from_account,"
                                    + " to_account, amount) VALUES ($1, $2, $3, $4, $5)")
                            .execute(
                                Tuple.of(
                                    t.id(),
                                    TxScope.current().orElseThrow().globalId(),
                                    t.from(),
                                    t.to(),
                                    t.amount())))
                .compose(
                    inserted ->
                        conn.preparedQuery(
                                "UPDATE account SET balance = balance - ?, version = version + 1"
                                    + " WHERE id = ? AND balance >= ?")
                            .execute(Tuple.of(t.amount(), t.from(), t.amount())))
                .compose(
                    debited ->
                        debited.rowCount() == 1
                            ? cacheAfterCommit(conn, effects, t.from(), t.refresh())
                            : Future.failedFuture(
                                new InsufficientFundsException(t.from(), t.amount())))
                .mapEmpty());
  }

  /**
   * Records, in the transaction, the effect on {@code account}'s cached balance at the version it
   * commits with: a versioned eviction (a tombstone) or a refresh to the new balance. It runs after
   * the commit, never for a rolled-back transaction, and never puts back an older value.
   */
  static Future<String> cacheAfterCommit(
      SqlConnection conn, RedisEffects effects, long account, boolean refresh) {
    return conn.preparedQuery("SELECT balance, version FROM account WHERE id = ?")
        .execute(Tuple.of(account))
        .compose(
            rows -> {
              Row row = rows.iterator().next();
              long version = row.getLong("version");
              RedisEffect effect =
                  refresh
                      ? RedisEffect.refresh(
                          CACHE, key(account), version, Long.toString(row.getLong("balance")))
                      : RedisEffect.evict(CACHE, key(account), version);
              return effects.afterCommit(conn, account, effect);
            });
  }

  record ReadResult(long balance, boolean hit) {}

  /** The cache, else the database; what it read there is cached with its version. */
  static Future<ReadResult> readThrough(ShardedPool pool, VersionedCache cache, long account) {
    return cache
        .get(key(account))
        .compose(
            hit -> {
              if (hit != null) {
                return Future.succeededFuture(new ReadResult(Long.parseLong(hit), true));
              }
              return pool.preparedQuery("SELECT balance, version FROM account WHERE id = ?")
                  .execute(Tuple.of(account))
                  .compose(
                      rows -> {
                        Row row = rows.iterator().next();
                        long balance = row.getLong("balance");
                        return cache
                            .putIfNewer(
                                key(account), row.getLong("version"), Long.toString(balance))
                            .map(stored -> new ReadResult(balance, false));
                      });
            });
  }

  static String key(long account) {
    return "balance:" + account;
  }

  /** {@code balance:1 tombstone at version 1, balance:2 = 230 at version 1}. */
  static String describe(VersionedCache cache, long... accounts) {
    List<String> parts = new ArrayList<>();
    for (long account : accounts) {
      List<String> entry = join(cache.entry(key(account)));
      parts.add(
          key(account)
              + (entry.get(1) == null ? " tombstone" : " = " + entry.get(1))
              + " at version "
              + entry.get(0));
    }
    return "(" + String.join(", ", parts) + ")";
  }

  static Map<Long, List<String>> cacheEntries(VersionedCache cache) {
    Map<Long, List<String>> entries = new LinkedHashMap<>();
    for (long account : OPENING.keySet()) {
      entries.put(account, join(cache.entry(key(account))));
    }
    return entries;
  }

  static ShardDatabase shardOf(ShardDatabases databases, long account) {
    return databases.get((int) (account % 2));
  }

  static long balance(ShardDatabases databases, long account) {
    return shardOf(databases, account)
        .query("SELECT balance FROM account WHERE id = " + account)
        .get(0)
        .getLong("balance");
  }

  static int ledgerRows(TestPostgres pg, int transfer) {
    return pg.query("SELECT count(*) AS n FROM ledger WHERE transfer_id = " + transfer)
        .get(0)
        .getInteger("n");
  }

  static long outboxRows(ShardDatabases databases) {
    long rows = 0;
    for (ShardDatabase db : databases.all()) {
      rows += db.query("SELECT COUNT(*) AS n FROM shardkit_outbox").get(0).getLong("n");
    }
    return rows;
  }

  /** Waits (on the main thread) until the relay has run every committed effect. */
  static void awaitRelayed(ShardDatabases databases) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      long pending = 0;
      for (ShardDatabase db : databases.all()) {
        pending +=
            db.query("SELECT COUNT(*) AS n FROM shardkit_outbox WHERE published_at IS NULL")
                .get(0)
                .getLong("n");
      }
      if (pending == 0) {
        return;
      }
      if (System.nanoTime() > until) {
        throw new IllegalStateException(pending + " cache effects not relayed within 30 s");
      }
      Thread.sleep(20);
    }
  }

  private static <T> T join(Future<T> future) {
    return future.toCompletionStage().toCompletableFuture().join();
  }
}
