package io.shardkit.tx.outbox;

import static io.shardkit.tx.outbox.OutboxFixture.await;
import static io.shardkit.tx.outbox.OutboxFixture.count;
import static io.shardkit.tx.outbox.OutboxFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.outbox.spi.OutboxSink;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The relay, the event-bus sink and the inbox on two real shards. */
@Shards(2)
class OutboxRelayTest {

  static final int ACCOUNTS = 20;

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
    await(Outbox.create(vertx, pool).installSchema());
    await(Inbox.create(pool, "view").installSchema());
  }

  @AfterAll
  static void stop() throws Exception {
    await(pool.close());
    await(vertx.close());
  }

  @BeforeEach
  void reset() {
    uncertain.set(0);
    databases.executeOnAll(
        "DELETE FROM account",
        "DELETE FROM account_view",
        "DELETE FROM shardkit_outbox",
        "DELETE FROM shardkit_outbox_lease",
        "DELETE FROM shardkit_inbox");
    StringBuilder values = new StringBuilder();
    for (int i = 1; i <= ACCOUNTS; i++) {
      values.append(i == 1 ? "" : ",").append("(").append(i).append(", 1000)");
    }
    databases.executeOnAll("INSERT INTO account (id, balance) VALUES " + values);
  }

  /** One transfer-like write: bumps the account's version and adds a message carrying it. */
  static Future<Long> write(Outbox outbox, long account, boolean fail) {
    return pool.withTransaction(
        Duration.ofSeconds(5),
        conn ->
            conn.preparedQuery(
                    "UPDATE account SET version = version + 1, balance = balance - 1 WHERE id = ?")
                .execute(Tuple.of(account))
                .compose(
                    rs ->
                        conn.preparedQuery("SELECT version FROM account WHERE id = ?")
                            .execute(Tuple.of(account)))
                .compose(
                    rs -> {
                      long seq = rs.iterator().next().getLong(0);
                      return outbox
                          .add(
                              conn,
                              OutboxMessage.json(
                                  "accounts", account, new JsonObject().put("seq", seq)))
                          .map(id -> seq);
                    })
                .compose(
                    seq ->
                        fail
                            ? Future.<Long>failedFuture(
                                new IllegalStateException("business refusal"))
                            : Future.succeededFuture(seq)));
  }

  /**
   * Writes that failed for a reason other than the business refusal: their commit may have landed.
   */
  static final AtomicInteger uncertain = new AtomicInteger();

  /**
   * Runs writes, {@code parallel} at a time, until {@code stop} is set (at most {@code total});
   * every 7th fails after its message. Writing until told to stop keeps writes in flight through
   * every fault the test injects, however fast the machine is.
   */
  static int writes(Outbox outbox, int total, int parallel, AtomicBoolean stop) throws Exception {
    AtomicInteger started = new AtomicInteger();
    AtomicInteger committed = new AtomicInteger();
    List<Future<?>> lanes = new ArrayList<>();
    for (int l = 0; l < parallel; l++) {
      Promise<Void> lane = Promise.promise();
      lanes.add(lane.future());
      vertx.runOnContext(v -> lane(outbox, started, committed, total, stop, lane));
    }
    await(Future.all(lanes));
    return committed.get();
  }

  private static void lane(
      Outbox outbox,
      AtomicInteger started,
      AtomicInteger committed,
      int total,
      AtomicBoolean stop,
      Promise<Void> done) {
    int n = started.incrementAndGet();
    if (n > total || stop.get()) {
      done.tryComplete();
      return;
    }
    long account = 1 + ThreadLocalRandom.current().nextInt(ACCOUNTS);
    write(outbox, account, n % 7 == 0)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                committed.incrementAndGet();
              } else if (!"business refusal".equals(ar.cause().getMessage())) {
                uncertain.incrementAndGet(); // e.g. the shard died during COMMIT: may have landed
              }
              lane(outbox, started, committed, total, stop, done);
            });
  }

  /** Per account: the seq values the consumer applied, in the order it applied them. */
  final Map<Long, List<Long>> applied = new ConcurrentHashMap<>();

  final AtomicInteger duplicates = new AtomicInteger();

  /**
   * The read-model consumer: applies each message once through the inbox and replies; the first
   * delivery of one message in {@code loseEvery} is applied but its reply is lost.
   */
  MessageConsumer<Buffer> consumer(Inbox inbox, int loseEvery) {
    AtomicInteger received = new AtomicInteger();
    return vertx
        .eventBus()
        .<Buffer>consumer(
            "accounts",
            msg -> {
              OutboxMessage m = EventBusSink.message(msg);
              long account = Long.parseLong(m.aggregateKeyText());
              long seq = m.payloadAsJson().getLong("seq");
              inbox
                  .apply(
                      m,
                      account,
                      conn ->
                          conn.preparedQuery(
                                  "INSERT INTO account_view (id, last_seq, applied) VALUES (?, ?, 1)"
                                      + " ON DUPLICATE KEY UPDATE last_seq = VALUES(last_seq),"
                                      + " applied = applied + 1")
                              .execute(Tuple.of(account, seq)))
                  .onSuccess(
                      fresh -> {
                        if (fresh) {
                          applied
                              .computeIfAbsent(account, k -> new CopyOnWriteArrayList<>())
                              .add(seq);
                        } else {
                          duplicates.incrementAndGet();
                        }
                        boolean lose =
                            loseEvery > 0
                                && m.attempt() == 1
                                && received.incrementAndGet() % loseEvery == 0;
                        if (!lose) {
                          msg.reply(null);
                        }
                      })
                  .onFailure(e -> msg.fail(500, e.toString()));
            });
  }

  /** A sink that can be made to fail, around the event bus. */
  static final class FlakySink implements OutboxSink {
    final OutboxSink delegate;
    final AtomicBoolean failing = new AtomicBoolean();

    FlakySink(OutboxSink delegate) {
      this.delegate = delegate;
    }

    @Override
    public Future<Void> publish(OutboxMessage message) {
      return failing.get()
          ? Future.failedFuture(new IllegalStateException("sink down"))
          : delegate.publish(message);
    }
  }

  static long versionsTotal() {
    return count(databases, 0, "SELECT COALESCE(SUM(version), 0) AS n FROM account")
        + count(databases, 1, "SELECT COALESCE(SUM(version), 0) AS n FROM account");
  }

  @Test
  void
      everyCommittedMessageIsAppliedOnceInOrderThroughSinkFailuresLostRepliesAShardKillAndARelayRestart()
          throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OutboxOptions options =
        OutboxOptions.builder()
            .pollInterval(Duration.ofMillis(20))
            .publishTimeout(Duration.ofMillis(300))
            .leaseDuration(Duration.ofSeconds(2))
            .failureBackoff(Duration.ofMillis(100))
            .meterRegistry(registry)
            .build();
    Outbox outbox = Outbox.create(vertx, pool, options);
    Inbox inbox = Inbox.create(pool, "view");
    MessageConsumer<Buffer> consumer = consumer(inbox, 10);
    FlakySink sink = new FlakySink(EventBusSink.create(vertx, Duration.ofMillis(300)));
    OutboxRelay relay = outbox.relay(sink);
    await(relay.start());

    Promise<Integer> writing = Promise.promise();
    AtomicBoolean stopWriting = new AtomicBoolean();
    new Thread(
            () -> {
              try {
                writing.complete(writes(outbox, 20_000, 16, stopWriting));
              } catch (Throwable e) {
                writing.fail(e);
              }
            })
        .start();
    Thread.sleep(400);
    sink.failing.set(true); // the sink is down for a while
    Thread.sleep(500);
    sink.failing.set(false);
    Thread.sleep(200);
    // a shard dies under writes, relay polls and consumer commits, then comes back
    databases.get(1).shard().kill();
    Thread.sleep(800);
    databases.get(1).shard().start();
    await(relay.stop()); // the relay stops and another one starts
    OutboxRelay second = outbox.relay(sink);
    await(second.start());
    Thread.sleep(300); // writes go on through the second relay's start
    stopWriting.set(true);
    int committed = await(writing.future());

    // every committed write bumped one version and wrote one message, in one local transaction:
    // the data is the truth (a write that failed while its shard died may have committed)
    long versions = versionsTotal();
    System.out.printf(
        "outbox relay: %d committed, %d failed while the shard was down, %d in the data%n",
        committed, uncertain.get(), versions);
    assertThat(uncertain.get()).as("the shard kill hit writes in flight").isPositive();
    assertThat(versions).isBetween((long) committed, (long) committed + uncertain.get());
    long rows =
        count(databases, 0, "SELECT COUNT(*) AS n FROM shardkit_outbox")
            + count(databases, 1, "SELECT COUNT(*) AS n FROM shardkit_outbox");
    assertThat(rows).as("one message per committed write, none for a rollback").isEqualTo(versions);
    assertThat(
            eventually(
                Duration.ofSeconds(40),
                () ->
                    count(databases, 0, "SELECT COALESCE(SUM(applied), 0) AS n FROM account_view")
                                + count(
                                    databases,
                                    1,
                                    "SELECT COALESCE(SUM(applied), 0) AS n FROM account_view")
                            >= versions
                        && count(
                                    databases,
                                    0,
                                    "SELECT COUNT(*) AS n FROM shardkit_outbox WHERE published_at IS NULL")
                                + count(
                                    databases,
                                    1,
                                    "SELECT COUNT(*) AS n FROM shardkit_outbox WHERE published_at IS NULL")
                            == 0))
        .as("all %d messages applied and marked", versions)
        .isTrue();
    await(second.stop());
    consumer.unregister();

    // applied exactly once each (the read model's counter, from the data), in order per key (the
    // sequence the consumer committed first applications in never goes back)
    for (long account = 1; account <= ACCOUNTS; account++) {
      int shard = (int) (account % 2);
      long version =
          count(databases, shard, "SELECT version AS n FROM account WHERE id = " + account);
      List<io.vertx.core.json.JsonObject> view =
          databases
              .get(shard)
              .query("SELECT last_seq, applied FROM account_view WHERE id = " + account);
      if (version == 0) {
        assertThat(view).as("account %d has no message", account).isEmpty();
        continue;
      }
      assertThat(view).as("account %d", account).hasSize(1);
      assertThat(((Number) view.get(0).getValue("applied")).longValue())
          .as("account %d: applications", account)
          .isEqualTo(version);
      assertThat(((Number) view.get(0).getValue("last_seq")).longValue())
          .as("account %d: last applied", account)
          .isEqualTo(version);
      List<Long> seen = applied.getOrDefault(account, List.of());
      for (int i = 1; i < seen.size(); i++) {
        assertThat(seen.get(i))
            .as("account %d applied %s", account, seen)
            .isGreaterThan(seen.get(i - 1));
      }
    }
    long inboxRows =
        count(databases, 0, "SELECT COUNT(*) AS n FROM shardkit_inbox")
            + count(databases, 1, "SELECT COUNT(*) AS n FROM shardkit_inbox");
    assertThat(inboxRows).isEqualTo(versions);
    assertThat(duplicates.get()).as("lost replies were redelivered and deduplicated").isPositive();
    double redeliveries =
        registry.find("shardkit.outbox.redeliveries").counters().stream()
            .mapToDouble(c -> c.count())
            .sum();
    assertThat(redeliveries).isGreaterThanOrEqualTo(duplicates.get());
    assertThat(registry.find("shardkit.outbox.failures").tag("kind", "publish").counters())
        .isNotEmpty();
    double published =
        registry.find("shardkit.outbox.published").counters().stream()
            .mapToDouble(c -> c.count())
            .sum();
    assertThat(published).isGreaterThanOrEqualTo(versions);
  }

  /** What a sink saw: who published which message of which data source, when it started. */
  record Publication(String relay, String dataSource, String messageId, long startNanos) {}

  /** Records publications; after {@code hangAfter} of them, never answers again. */
  static final class RecordingSink implements OutboxSink {
    final String relay;
    final List<Publication> log;
    final int hangAfter;
    final AtomicInteger seen = new AtomicInteger();

    RecordingSink(String relay, List<Publication> log, int hangAfter) {
      this.relay = relay;
      this.log = log;
      this.hangAfter = hangAfter;
    }

    @Override
    public Future<Void> publish(OutboxMessage message) {
      log.add(
          new Publication(
              relay,
              message.headers().get(OutboxMessage.DATA_SOURCE),
              message.id(),
              System.nanoTime()));
      if (seen.incrementAndGet() > hangAfter) {
        return Promise.<Void>promise().future(); // stuck mid-batch
      }
      return Future.succeededFuture();
    }
  }

  @Test
  void aRelayKilledMidBatchLosesNothingAndTwoRelaysNeverPublishAShardAtOnce() throws Exception {
    Outbox writer = Outbox.create(vertx, pool);
    for (int i = 0; i < 10; i++) {
      List<Future<?>> batch = new ArrayList<>();
      for (int a = 1; a <= ACCOUNTS; a++) {
        batch.add(write(writer, a, false));
      }
      await(Future.all(batch));
    }
    Set<String> all = new HashSet<>();
    for (int s = 0; s < 2; s++) {
      databases
          .get(s)
          .query("SELECT message_id FROM shardkit_outbox")
          .forEach(r -> all.add(r.getString("message_id")));
    }
    assertThat(all).hasSize(10 * ACCOUNTS);

    OutboxOptions options =
        OutboxOptions.builder()
            .batchSize(50)
            .maxInFlight(4)
            .pollInterval(Duration.ofMillis(20))
            .leaseDuration(Duration.ofSeconds(1))
            .publishTimeout(Duration.ofMillis(300))
            .build();
    List<Publication> log = Collections.synchronizedList(new ArrayList<>());
    Vertx vertxA = OutboxFixture.vertx();
    ShardedPool poolA = OutboxFixture.pool(vertxA, databases.dataSources("ds_"));
    OutboxRelay relayA =
        Outbox.create(vertxA, poolA, options.toBuilder().relayId("relay-a").build())
            .relay(new RecordingSink("a", log, 60));
    OutboxRelay relayB =
        Outbox.create(vertx, pool, options.toBuilder().relayId("relay-b").build())
            .relay(new RecordingSink("b", log, Integer.MAX_VALUE));
    await(relayA.start());
    assertThat(eventually(Duration.ofSeconds(10), () -> log.size() >= 60)).isTrue();
    await(relayB.start()); // races for the leases A holds
    Thread.sleep(300);
    // A is stuck mid-batch; now it dies without giving its leases back
    vertxA.close().toCompletionStage().toCompletableFuture().get();

    assertThat(
            eventually(
                Duration.ofSeconds(20),
                () ->
                    count(
                                databases,
                                0,
                                "SELECT COUNT(*) AS n FROM shardkit_outbox WHERE published_at IS NULL")
                            + count(
                                databases,
                                1,
                                "SELECT COUNT(*) AS n FROM shardkit_outbox WHERE published_at IS NULL")
                        == 0))
        .isTrue();
    await(relayB.stop());

    List<Publication> seen = new ArrayList<>(log);
    Set<String> delivered = new HashSet<>();
    seen.forEach(p -> delivered.add(p.messageId()));
    assertThat(delivered).as("every message published at least once").containsAll(all);
    Map<String, Long> lastA = new HashMap<>();
    Map<String, Long> firstB = new HashMap<>();
    for (Publication p : seen) {
      if (p.relay().equals("a")) {
        lastA.merge(p.dataSource(), p.startNanos(), Math::max);
      } else {
        firstB.merge(p.dataSource(), p.startNanos(), Math::min);
      }
    }
    long publishTimeout = options.publishTimeout().toNanos();
    for (String ds : lastA.keySet()) {
      if (firstB.containsKey(ds)) {
        assertThat(firstB.get(ds))
            .as("B starts on %s only after A's last publication there could have ended", ds)
            .isGreaterThan(lastA.get(ds) + publishTimeout);
      }
    }
    // the messages A left hanging were published again by B
    long redelivered =
        seen.stream()
            .filter(p -> p.relay().equals("b"))
            .map(Publication::messageId)
            .filter(
                id ->
                    seen.stream().anyMatch(q -> q.relay().equals("a") && q.messageId().equals(id)))
            .count();
    assertThat(redelivered).isPositive();
  }
}
