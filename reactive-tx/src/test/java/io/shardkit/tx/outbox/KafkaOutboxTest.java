package io.shardkit.tx.outbox;

import static io.shardkit.tx.outbox.OutboxFixture.await;
import static io.shardkit.tx.outbox.OutboxFixture.count;
import static io.shardkit.tx.outbox.OutboxFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.KafkaBroker;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.Transactions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The outbox end to end through a real Kafka 4 broker (KRaft, child JVM) on two real shards. */
@Shards(2)
class KafkaOutboxTest {

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardedPool pool;
  static KafkaBroker kafka;

  @BeforeAll
  static void start(ShardDatabases dbs) throws Exception {
    kafka = KafkaBroker.start();
    databases = dbs;
    OutboxFixture.createTables(dbs);
    vertx = OutboxFixture.vertx();
    pool = OutboxFixture.pool(vertx, dbs.dataSources("ds_"));
    await(Transactions.of(pool).installSchema());
    await(Outbox.create(vertx, pool).installSchema());
    await(Inbox.create(pool, "kafka-view").installSchema());
    StringBuilder values = new StringBuilder();
    for (int i = 1; i <= 10; i++) {
      values.append(i == 1 ? "" : ",").append("(").append(i).append(", 1000)");
    }
    dbs.executeOnAll("INSERT INTO account (id, balance) VALUES " + values);
  }

  @AfterAll
  static void stop() throws Exception {
    await(pool.close());
    await(vertx.close());
    kafka.close();
  }

  @Test
  void committedMessagesReachAKafkaConsumerOnceEachInOrderPerKeyAcrossARelayRestart()
      throws Exception {
    OutboxOptions options =
        OutboxOptions.builder()
            .pollInterval(Duration.ofMillis(20))
            .publishTimeout(Duration.ofSeconds(5))
            .leaseDuration(Duration.ofSeconds(15))
            .build();
    Outbox outbox = Outbox.create(vertx, pool, options);
    KafkaSink sink = KafkaSink.create(vertx, Map.of("bootstrap.servers", kafka.bootstrapServers()));
    Inbox inbox = Inbox.create(pool, "kafka-view");
    Map<Long, List<Long>> applied = new ConcurrentHashMap<>();
    Map<String, Long> committedAt = new ConcurrentHashMap<>();
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger duplicates = new AtomicInteger();

    KafkaConsumer<String, Buffer> consumer =
        KafkaConsumer.create(
            vertx,
            Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "group.id", "view",
                "auto.offset.reset", "earliest",
                "key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
                "value.deserializer", "io.vertx.kafka.client.serialization.BufferDeserializer"));
    Future<?>[] last = {Future.succeededFuture()};
    consumer.handler(
        record -> {
          OutboxMessage m = KafkaSink.message(record);
          long account = Long.parseLong(record.key());
          long seq = m.payloadAsJson().getLong("seq");
          last[0] =
              last[0]
                  .transform(
                      ar ->
                          inbox.apply(
                              m,
                              account,
                              conn ->
                                  conn.preparedQuery(
                                          "INSERT INTO account_view (id, last_seq, applied)"
                                              + " VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE"
                                              + " last_seq = VALUES(last_seq), applied = applied + 1")
                                      .execute(Tuple.of(account, seq))))
                  .onSuccess(
                      fresh -> {
                        if (fresh) {
                          applied
                              .computeIfAbsent(account, k -> new CopyOnWriteArrayList<>())
                              .add(seq);
                          Long at = committedAt.get(m.id());
                          if (at != null) {
                            latencies.add(System.nanoTime() - at);
                          }
                        } else {
                          duplicates.incrementAndGet();
                        }
                      });
        });
    await(consumer.subscribe("accounts"));

    OutboxRelay relay = outbox.relay(sink);
    await(relay.start());
    int total = 200;
    for (int i = 0; i < total; i++) {
      long account = 1 + (i % 10);
      String id =
          await(
              pool.withTransaction(
                  conn ->
                      conn.preparedQuery("UPDATE account SET version = version + 1 WHERE id = ?")
                          .execute(Tuple.of(account))
                          .compose(
                              rs ->
                                  conn.preparedQuery("SELECT version FROM account WHERE id = ?")
                                      .execute(Tuple.of(account)))
                          .compose(
                              rs ->
                                  outbox.add(
                                      conn,
                                      OutboxMessage.json(
                                          "accounts",
                                          account,
                                          new JsonObject()
                                              .put("seq", rs.iterator().next().getLong(0)))))));
      committedAt.put(id, System.nanoTime());
      if (i == total / 2) {
        await(relay.stop()); // the relay goes away and another instance takes over
        relay = outbox.relay(sink);
        await(relay.start());
      }
      if (i % 10 == 0) {
        Thread.sleep(5); // a steady load rather than one burst
      }
    }
    assertThat(
            eventually(
                Duration.ofSeconds(60),
                () -> applied.values().stream().mapToInt(List::size).sum() >= total))
        .as("all %d messages applied", total)
        .isTrue();
    await(relay.stop());
    await(consumer.close());
    await(sink.close());

    for (long account = 1; account <= 10; account++) {
      List<Long> expected = new ArrayList<>();
      for (long s = 1; s <= total / 10; s++) {
        expected.add(s);
      }
      assertThat(applied.get(account)).as("account %d", account).isEqualTo(expected);
    }
    assertThat(
            count(
                    databases,
                    0,
                    "SELECT COUNT(*) AS n FROM shardkit_inbox WHERE consumer = 'kafka-view'")
                + count(
                    databases,
                    1,
                    "SELECT COUNT(*) AS n FROM shardkit_inbox WHERE consumer = 'kafka-view'"))
        .isEqualTo(total);
    List<Long> sorted = new ArrayList<>(latencies);
    Collections.sort(sorted);
    System.out.printf(
        "kafka outbox: %d messages, commit -> consumer applied p50 %.1f ms, p99 %.1f ms,"
            + " duplicates %d%n",
        sorted.size(),
        sorted.get(sorted.size() / 2) / 1e6,
        sorted.get((int) (sorted.size() * 0.99)) / 1e6,
        duplicates.get());
  }
}
