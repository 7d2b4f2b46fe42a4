package io.shardkit.tx.outbox;

import static io.shardkit.tx.outbox.OutboxFixture.await;
import static io.shardkit.tx.outbox.OutboxFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.Transactions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Measures the polling relay at a steady load on two real shards: commit → event-bus consumer
 * received (p50, p99), and what an idle relay costs the shards (statements per second). Prints the
 * figures; asserts only that every message arrived. {@code -Dshardkit.outbox.seconds} (4) sets the
 * length, {@code -Dshardkit.outbox.rate} (200/s) the load. Runs only with {@code
 * -Dshardkit.outbox.bench=true} (timing figures on a shared machine are not a test).
 */
@Shards(2)
@org.junit.jupiter.api.condition.EnabledIfSystemProperty(
    named = "shardkit.outbox.bench",
    matches = "true")
class OutboxLatencyTest {

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardedPool pool;

  @BeforeAll
  static void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    OutboxFixture.createTables(dbs);
    vertx = OutboxFixture.vertx();
    pool = OutboxFixture.pool(vertx, dbs.dataSources("ds_"));
    await(Transactions.of(pool).installSchema());
    await(Transactions.of(pool).warmUp());
    await(Outbox.create(vertx, pool).installSchema());
    dbs.executeOnAll("INSERT INTO account (id, balance) VALUES (1, 0), (2, 0), (3, 0), (4, 0)");
  }

  @AfterAll
  static void stop() throws Exception {
    await(pool.close());
    await(vertx.close());
  }

  static long statements(int shard) {
    long n = 0;
    for (JsonObject row :
        databases
            .get(shard)
            .query(
                "SHOW GLOBAL STATUS WHERE Variable_name IN"
                    + " ('Com_select', 'Com_update', 'Com_insert', 'Com_delete', 'Com_stmt_execute')")) {
      n += Long.parseLong(String.valueOf(row.getValue("Value")));
    }
    return n;
  }

  @Test
  void commitToConsumerLatencyAtASteadyLoadAndTheIdleCost() throws Exception {
    int seconds = Integer.getInteger("shardkit.outbox.seconds", 4);
    int rate = Integer.getInteger("shardkit.outbox.rate", 200);
    Outbox outbox = Outbox.create(vertx, pool);
    outbox.warmUp(1L);
    pool.dataSourcesFor("UPDATE account SET balance = balance + 1 WHERE id = ?", Tuple.of(1L));
    Map<String, Long> committedAt = new ConcurrentHashMap<>();
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    MessageConsumer<Buffer> consumer =
        vertx
            .eventBus()
            .<Buffer>consumer(
                "ledger",
                msg -> {
                  Long at = committedAt.get(EventBusSink.message(msg).id());
                  long now = System.nanoTime();
                  if (at != null) {
                    latencies.add(now - at);
                  }
                  msg.reply(null);
                });
    OutboxRelay relay = outbox.relay(EventBusSink.create(vertx));
    await(relay.start());
    Thread.sleep(500);

    // idle: what polling costs with nothing to publish
    long before0 = statements(0);
    long idleStart = System.nanoTime();
    Thread.sleep(2000);
    double idlePerSecond = (statements(0) - before0) / ((System.nanoTime() - idleStart) / 1e9);

    int total = seconds * rate;
    long intervalNanos = 1_000_000_000L / rate;
    long begin = System.nanoTime();
    List<io.vertx.core.Future<?>> writes = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      long due = begin + i * intervalNanos;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      }
      long account = 1 + (i % 4);
      writes.add(
          pool.withTransaction(
                  conn ->
                      conn.preparedQuery("UPDATE account SET balance = balance + 1 WHERE id = ?")
                          .execute(Tuple.of(account))
                          .compose(
                              rs ->
                                  outbox.add(
                                      conn,
                                      OutboxMessage.json(
                                          "ledger", account, new JsonObject().put("n", 1)))))
              .onSuccess(id -> committedAt.put(id, System.nanoTime())));
    }
    await(io.vertx.core.Future.all(writes));
    assertThat(eventually(Duration.ofSeconds(30), () -> latencies.size() >= total * 99 / 100))
        .isTrue();
    Thread.sleep(200);
    await(relay.stop());
    consumer.unregister();
    List<Long> sorted = new ArrayList<>(latencies);
    Collections.sort(sorted);
    System.out.printf(
        "outbox relay (event bus, poll 50 ms): %d msg/s for %d s, commit -> consumer p50 %.1f ms,"
            + " p99 %.1f ms; idle relay: %.1f statements/s per shard%n",
        rate,
        seconds,
        sorted.get(sorted.size() / 2) / 1e6,
        sorted.get((int) (sorted.size() * 0.99)) / 1e6,
        idlePerSecond);
  }
}
