package io.shardkit.tx.redis;

import static io.shardkit.tx.redis.RedisTestSupport.await;
import static io.shardkit.tx.redis.RedisTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.router.CircuitBreakerOptions;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.TestRedis;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.outbox.Outbox;
import io.shardkit.tx.outbox.OutboxOptions;
import io.shardkit.tx.outbox.OutboxRelay;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Cached balances in a real Redis, kept consistent with real MariaDB shards by after-commit effects
 * that go through the outbox: concurrent cross-shard (XA) transfers record a versioned eviction or
 * refresh of both balances in the transaction itself; read-through readers fill the cache with what
 * they read; Redis is paused (SIGSTOP) and killed -9 during the run. Once the relay has run every
 * effect, each cached balance is checked key by key against the database: equal (same version) or
 * absent (a tombstone or no entry).
 */
@Shards(2)
class RedisCacheConsistencyTest {

  static final int ACCOUNTS = 40;
  static final long OPENING = 1000;

  ShardDatabases databases;
  TestRedis redis;
  Vertx vertx;
  ShardedPool pool;
  RedisSources sources;
  Outbox outbox;
  RedisEffects effects;
  VersionedCache cache;
  SimpleMeterRegistry meters = new SimpleMeterRegistry();
  AtomicInteger refusedPuts = new AtomicInteger();

  @BeforeEach
  void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    databases.executeOnAll(
        "DROP TABLE IF EXISTS account",
        "DROP TABLE IF EXISTS shardkit_outbox",
        "DROP TABLE IF EXISTS shardkit_outbox_lease",
        "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
            + " version BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB");
    for (int id = 0; id < ACCOUNTS; id++) {
      databases
          .get(id % 2)
          .execute("INSERT INTO account (id, balance) VALUES (" + id + ", " + OPENING + ")");
    }
    redis = TestRedis.startDurable();
    vertx = RedisTestSupport.vertx();
    pool =
        ShardedPool.builder(vertx)
            .rules(
                ShardingRules.builder()
                    .table(
                        "account",
                        t -> t.dataNodes("ds_${0..1}.account").databaseStrategy("id", "mod"))
                    .table(
                        "shardkit_outbox",
                        t ->
                            t.dataNodes("ds_${0..1}.shardkit_outbox")
                                .databaseStrategy("aggregate_key", "mod"))
                    .build())
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(8))
            .transactionManager(p -> Transactions.create(vertx, p, TransactionsOptions.of("ds_0")))
            .build();
    await(Transactions.of(pool).installSchema());
    outbox =
        Outbox.create(
            vertx,
            pool,
            OutboxOptions.builder()
                .pollInterval(Duration.ofMillis(20))
                .publishTimeout(Duration.ofMillis(600))
                .failureBackoff(Duration.ofMillis(100))
                .leaseDuration(Duration.ofSeconds(2))
                .build());
    await(outbox.installSchema());
    outbox.warmUp(1L);
    // Jackson builds its serializers on first use (2 s on an event loop once, under the coverage
    // agent on a loaded machine): built here, on the test thread
    io.vertx.core.json.Json.encode(
        new io.vertx.core.json.JsonObject()
            .put(
                "a",
                new io.vertx.core.json.JsonArray()
                    .add(new io.vertx.core.json.JsonObject().put("b", 1).put("c", "d"))
                    .add(java.util.Map.of("e", java.util.List.of(1L, "f")))));
    // routed once here, so the first transfer does not load the SQL parser on an event loop
    pool.dataSourcesFor(
        "UPDATE account SET balance = balance - ?, version = version + 1 WHERE id = ? AND"
            + " balance >= ?",
        Tuple.of(1L, 1L, 1L));
    pool.dataSourcesFor(
        "UPDATE account SET balance = balance + ?, version = version + 1 WHERE id = ?",
        Tuple.of(1L, 1L));
    pool.dataSourcesFor("SELECT balance, version FROM account WHERE id = ?", Tuple.of(1L));
    sources =
        RedisSources.builder(
                vertx,
                RedisTxOptions.builder()
                    .meterRegistry(meters)
                    .commandTimeout(Duration.ofMillis(400))
                    .circuitBreaker(
                        CircuitBreakerOptions.builder()
                            .consecutiveFailures(5)
                            .openDuration(Duration.ofMillis(300))
                            .build())
                    .build())
            .source("cache", RedisTestSupport.clientOptions(redis))
            .build();
    effects = RedisEffects.create(outbox, sources);
    cache = VersionedCache.of(sources, "cache", null);
  }

  @AfterEach
  void stop() throws Exception {
    await(Transactions.of(pool).close());
    await(pool.close());
    await(sources.close());
    RedisTestSupport.close(vertx);
    redis.close();
  }

  static String key(long account) {
    return "balance:" + account;
  }

  /** A cross-shard transfer recording, in the same XA transaction, the effects on both balances. */
  Future<Void> transfer(long from, long to, long amount, boolean refresh) {
    return pool.withTransaction(
        Duration.ofSeconds(3),
        conn ->
            conn.preparedQuery(
                    "UPDATE account SET balance = balance - ?, version = version + 1 WHERE id = ?"
                        + " AND balance >= ?")
                .execute(Tuple.of(amount, from, amount))
                .compose(
                    debited ->
                        debited.rowCount() == 1
                            ? conn.preparedQuery(
                                    "UPDATE account SET balance = balance + ?, version = version"
                                        + " + 1 WHERE id = ?")
                                .execute(Tuple.of(amount, to))
                            : Future.failedFuture(
                                new IllegalStateException("insufficient funds on " + from)))
                .compose(v -> afterCommit(conn, from, refresh))
                .compose(v -> afterCommit(conn, to, refresh)));
  }

  /** The one line a user writes: the effect on {@code account}'s cached balance, as committed. */
  Future<Void> afterCommit(SqlConnection conn, long account, boolean refresh) {
    return conn.preparedQuery("SELECT balance, version FROM account WHERE id = ?")
        .execute(Tuple.of(account))
        .compose(
            rows -> {
              Row row = rows.iterator().next();
              long version = row.getLong("version");
              RedisEffect effect =
                  refresh
                      ? RedisEffect.refresh(
                          "cache", key(account), version, Long.toString(row.getLong("balance")))
                      : RedisEffect.evict("cache", key(account), version);
              return effects.afterCommit(conn, account, effect).mapEmpty();
            });
  }

  /** A read-through read: the cache, else the database (then cached with its version). */
  Future<Void> read(long account) {
    return cache
        .get(key(account))
        .recover(f -> Future.succeededFuture(null))
        .compose(
            hit -> {
              if (hit != null) {
                return Future.succeededFuture();
              }
              return pool.preparedQuery("SELECT balance, version FROM account WHERE id = ?")
                  .execute(Tuple.of(account))
                  .compose(
                      rows -> {
                        Row row = rows.iterator().next();
                        // a slow reader (a GC pause, a busy loop): commits and their effects may
                        // land between its read and its put
                        long pause = 1 + ThreadLocalRandom.current().nextInt(100);
                        return vertx
                            .timer(pause)
                            .compose(
                                t ->
                                    cache.putIfNewer(
                                        key(account),
                                        row.getLong("version"),
                                        Long.toString(row.getLong("balance"))))
                            .recover(f -> Future.succeededFuture(true))
                            .map(
                                stored -> {
                                  if (!stored) {
                                    refusedPuts.incrementAndGet(); // a newer version was there
                                  }
                                  return null;
                                });
                      });
            });
  }

  @Test
  void everyCachedBalanceMatchesTheDatabaseAfterPauseAndKill() throws Exception {
    OutboxRelay relay = outbox.relay(effects.sink(sources));
    await(relay.start());
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger committed = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicInteger reads = new AtomicInteger();
    int writers = 8;
    int readers = 12;
    AtomicInteger running = new AtomicInteger(writers + readers);
    Promise<Void> done = Promise.promise();
    Runnable[] write = new Runnable[1];
    Runnable[] readLoop = new Runnable[1];
    Runnable finish =
        () -> {
          if (running.decrementAndGet() == 0) {
            done.tryComplete();
          }
        };
    write[0] =
        () -> {
          if (stop.get()) {
            finish.run();
            return;
          }
          ThreadLocalRandom random = ThreadLocalRandom.current();
          long from = random.nextInt(ACCOUNTS);
          long to = (from + 1 + 2L * random.nextInt(ACCOUNTS / 2 - 1)) % ACCOUNTS; // other shard
          transfer(from, to, 1 + random.nextInt(20), random.nextBoolean())
              .onComplete(
                  ar -> {
                    (ar.succeeded() ? committed : failed).incrementAndGet();
                    write[0].run();
                  });
        };
    readLoop[0] =
        () -> {
          if (stop.get()) {
            finish.run();
            return;
          }
          read(ThreadLocalRandom.current().nextInt(ACCOUNTS))
              .onComplete(
                  ar -> {
                    reads.incrementAndGet();
                    readLoop[0].run();
                  });
        };
    for (int i = 0; i < writers; i++) {
      vertx.runOnContext(v -> write[0].run());
    }
    for (int i = 0; i < readers; i++) {
      vertx.runOnContext(v -> readLoop[0].run());
    }
    Thread.sleep(700);
    redis.pause();
    Thread.sleep(1500);
    redis.resume();
    Thread.sleep(700);
    redis.kill();
    Thread.sleep(1000);
    redis.start();
    Thread.sleep(500);
    redis.pause();
    Thread.sleep(800);
    redis.resume();
    Thread.sleep(1000);
    stop.set(true);
    await(done.future(), Duration.ofSeconds(60));

    long drainStart = System.nanoTime();
    boolean drained =
        RedisTestSupport.eventually(Duration.ofSeconds(60), () -> pendingEffects() == 0);
    long drainMillis = (System.nanoTime() - drainStart) / 1_000_000;
    assertThat(drained).as("every effect ran once Redis was back").isTrue();
    await(relay.stop());

    // key by key: equal to the database (same version) or absent
    int values = 0;
    int tombstones = 0;
    int absent = 0;
    List<String> wrong = new ArrayList<>();
    long total = 0;
    for (long id = 0; id < ACCOUNTS; id++) {
      JsonObject row =
          databases
              .get((int) (id % 2))
              .query("SELECT balance, version FROM account WHERE id = " + id)
              .get(0);
      long balance = row.getLong("balance");
      long version = row.getLong("version");
      total += balance;
      String v = redis.command("HGET", key(id), "v");
      String val = redis.command("HGET", key(id), "val");
      if (v == null) {
        absent++;
      } else if (val == null) {
        tombstones++;
        if (Long.parseLong(v) > version) {
          wrong.add(id + ": tombstone at version " + v + " > database version " + version);
        }
      } else {
        values++;
        if (Long.parseLong(val) != balance || Long.parseLong(v) != version) {
          wrong.add(
              id
                  + ": cached "
                  + val
                  + " at version "
                  + v
                  + ", database "
                  + balance
                  + " at version "
                  + version);
        }
      }
    }
    assertThat(wrong).as("cached balances that contradict the database").isEmpty();
    assertThat(total).as("money is conserved").isEqualTo(ACCOUNTS * OPENING);
    Map<String, Integer> effectOutcomes = new TreeMap<>();
    for (Counter c : meters.find("shardkit.redis.effects").counters()) {
      effectOutcomes.merge(
          c.getId().getTag("kind") + " " + c.getId().getTag("outcome"),
          (int) c.count(),
          Integer::sum);
    }
    assertThat(committed.get()).isPositive();
    assertThat(
            effectOutcomes.entrySet().stream()
                .filter(e -> e.getKey().endsWith("failed"))
                .mapToInt(Map.Entry::getValue)
                .sum())
        .as("the faults made effects fail (then retried): %s", effectOutcomes)
        .isPositive();
    System.out.printf(
        "redis cache: %d transfers committed, %d failed, %d reads (%d read-through puts refused:"
            + " older than the cached version); effects %s; drained %d ms after the load; %d keys"
            + " equal, %d tombstones, %d absent%n",
        committed.get(),
        failed.get(),
        reads.get(),
        refusedPuts.get(),
        effectOutcomes,
        drainMillis,
        values,
        tombstones,
        absent);
  }

  @Test
  void effectsRunOnlyAfterCommitAndNeverForRolledBackTransactions() throws Exception {
    redis.command("SET", "greeting:1", "hello");
    redis.command("SET", "greeting:2", "hello");
    OutboxRelay relay = outbox.relay(effects.sink(sources));
    await(relay.start());
    try {
      Throwable rolledBack =
          awaitFailure(
              pool.withTransaction(
                  conn ->
                      effects
                          .afterCommit(conn, 1L, RedisEffect.evict("cache", "greeting:1"))
                          .compose(
                              id -> Future.failedFuture(new IllegalStateException("refused")))));
      assertThat(rolledBack).hasMessageContaining("refused");
      await(
          pool.withTransaction(
              conn -> effects.afterCommit(conn, 2L, RedisEffect.evict("cache", "greeting:2"))));
      assertThat(
              RedisTestSupport.eventually(
                  Duration.ofSeconds(10), () -> redis.command("GET", "greeting:2") == null))
          .isTrue();
      assertThat(redis.command("GET", "greeting:1")).isEqualTo("hello");
      assertThat(RedisTestSupport.eventually(Duration.ofSeconds(5), () -> pendingEffects() == 0))
          .isTrue();
      // a pool is not a transaction: the effect would not be tied to any commit
      assertThat(awaitFailure(effects.afterCommit(pool, 3L, RedisEffect.evict("cache", "x"))))
          .isInstanceOf(IllegalArgumentException.class);
      // an unknown source fails the recording, so the transaction rolls back
      Throwable unknown =
          awaitFailure(
              pool.withTransaction(
                  conn -> effects.afterCommit(conn, 3L, RedisEffect.evict("sessions", "x"))));
      assertThat(unknown)
          .isInstanceOf(RedisStepConfigurationException.class)
          .hasMessageContaining("unknown Redis source 'sessions'")
          .hasMessageContaining("[cache]");
      assertThat(RedisTestSupport.eventually(Duration.ofSeconds(5), () -> pendingEffects() == 0))
          .isTrue();
    } finally {
      await(relay.stop());
    }
  }

  @Test
  void aTccConfirmRecordsItsEffectThroughItsOwnConnection() throws Exception {
    Transactions transactions = Transactions.of(pool);
    io.shardkit.tx.TccAction<Long> deposit =
        io.shardkit.tx.TccAction.builder(
                "deposit",
                io.shardkit.tx.TccCodec.of(
                    (Long id) -> new JsonObject().put("id", id), json -> json.getLong("id")))
            .shardedBy("account", id -> id)
            .onTry((ctx, id) -> Future.succeededFuture())
            .onConfirm(
                (ctx, id) ->
                    ctx.client()
                        .preparedQuery(
                            "UPDATE account SET balance = balance + 5, version = version + 1"
                                + " WHERE id = ?")
                        .execute(Tuple.of(id))
                        .compose(
                            v ->
                                ctx.client()
                                    .preparedQuery("SELECT version FROM account WHERE id = ?")
                                    .execute(Tuple.of(id)))
                        .compose(
                            rows ->
                                effects.afterCommit(
                                    ctx,
                                    id,
                                    RedisEffect.evict(
                                        "cache", key(id), rows.iterator().next().getLong(0))))
                        .mapEmpty())
            .onCancel((ctx, id) -> Future.succeededFuture())
            .build();
    transactions.register(deposit);
    await(transactions.installSchema());
    redis.command("HSET", key(3), "v", "0", "val", "1000");
    redis.command("HSET", key(4), "v", "0", "val", "1000");
    OutboxRelay relay = outbox.relay(effects.sink(sources));
    await(relay.start());
    try {
      io.shardkit.tx.TransactionOptions timeout =
          io.shardkit.tx.TransactionOptions.ofTimeout(Duration.ofSeconds(5));
      await(transactions.tcc(timeout, tx -> tx.enlist(deposit, 3L)));
      awaitFailure(
          transactions.tcc(
              timeout,
              tx ->
                  tx.enlist(deposit, 4L)
                      .compose(v -> Future.failedFuture(new IllegalStateException("declined")))));
      assertThat(
              RedisTestSupport.eventually(
                  Duration.ofSeconds(10), () -> redis.command("HGET", key(3), "val") == null))
          .isTrue();
      assertThat(redis.command("HGET", key(3), "v")).isEqualTo("1");
      assertThat(redis.command("HGET", key(4), "val")).isEqualTo("1000"); // cancelled: untouched
      assertThat(RedisTestSupport.eventually(Duration.ofSeconds(5), () -> pendingEffects() == 0))
          .isTrue();
    } finally {
      await(relay.stop());
    }
  }

  @Test
  void aNotificationIsPublishedAfterCommitOnly() throws Exception {
    io.vertx.redis.client.RedisConnection subscriber =
        await(io.vertx.redis.client.Redis.createClient(vertx, redis.uri()).connect());
    List<String> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    subscriber.handler(
        message -> {
          // RESP2 push: [message, channel, payload]
          if (message.size() == 3 && "message".equals(message.get(0).toString())) {
            received.add(message.get(2).toString());
          }
        });
    await(
        subscriber.send(
            io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.SUBSCRIBE)
                .arg("accounts")));
    OutboxRelay relay = outbox.relay(effects.sink(sources));
    await(relay.start());
    try {
      awaitFailure(
          pool.withTransaction(
              conn ->
                  effects
                      .afterCommit(
                          conn, 1L, RedisEffect.publish("cache", "accounts", "rolled back"))
                      .compose(id -> Future.failedFuture(new IllegalStateException("refused")))));
      await(
          pool.withTransaction(
              conn ->
                  effects.afterCommit(
                      conn, 2L, RedisEffect.publish("cache", "accounts", "account 2 changed"))));
      assertThat(RedisTestSupport.eventually(Duration.ofSeconds(10), () -> !received.isEmpty()))
          .isTrue();
      Thread.sleep(300);
      assertThat(received).containsExactly("account 2 changed");
    } finally {
      await(relay.stop());
      subscriber.close();
    }
  }

  long pendingEffects() {
    long pending = 0;
    for (var db : databases.all()) {
      pending +=
          db.query("SELECT COUNT(*) AS n FROM shardkit_outbox WHERE published_at IS NULL")
              .get(0)
              .getLong("n");
    }
    return pending;
  }
}
