package io.shardkit.examples;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestShards;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.outbox.EventBusSink;
import io.shardkit.tx.outbox.Inbox;
import io.shardkit.tx.outbox.Outbox;
import io.shardkit.tx.outbox.OutboxMessage;
import io.shardkit.tx.outbox.OutboxOptions;
import io.shardkit.tx.outbox.OutboxRelay;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The transactional outbox: an order service writes each order and an {@code OrderCreated} message
 * in one transaction on the user's shard (one order is refused and leaves no message); the relay
 * publishes committed messages on the event bus; a consumer verticle applies each one once, through
 * its inbox, to a read model sharded like the orders. Runs on two embedded MariaDB shards.
 */
public final class OutboxExample {

  private OutboxExample() {}

  public static void main(String[] args) throws Exception {
    try (TestShards shards = TestShards.start(2)) {
      ShardDatabases databases = shards.createDatabases("outbox_example", 2);
      databases.executeOnAll(
          "CREATE TABLE t_order (order_id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL,"
              + " amount BIGINT NOT NULL)",
          "CREATE TABLE user_orders (user_id BIGINT PRIMARY KEY, orders BIGINT NOT NULL,"
              + " total BIGINT NOT NULL)");
      Vertx vertx = Vertx.vertx();
      ShardingRules rules =
          ShardingRules.builder()
              .table(
                  "t_order",
                  t -> t.dataNodes("ds_${0..1}.t_order").databaseStrategy("user_id", "mod"))
              .table(
                  "user_orders",
                  t -> t.dataNodes("ds_${0..1}.user_orders").databaseStrategy("user_id", "mod"))
              .table(
                  "shardkit_outbox",
                  t ->
                      t.dataNodes("ds_${0..1}.shardkit_outbox")
                          .databaseStrategy("aggregate_key", "mod"))
              .table(
                  "shardkit_inbox",
                  t ->
                      t.dataNodes("ds_${0..1}.shardkit_inbox").databaseStrategy("shard_key", "mod"))
              .build();
      ShardedPool pool =
          ShardedPool.builder(vertx)
              .rules(rules)
              .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(4))
              .transactionManager(
                  p -> Transactions.create(vertx, p, TransactionsOptions.of("ds_0")))
              .build();
      try {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Outbox outbox =
            Outbox.create(vertx, pool, OutboxOptions.builder().meterRegistry(prometheus).build());
        Inbox inbox = Inbox.create(pool, "user-orders");
        join(Transactions.of(pool).installSchema());
        join(outbox.installSchema());
        join(inbox.installSchema());

        int orders = 20;
        CountDownLatch applied = new CountDownLatch(orders - 1);
        join(vertx.deployVerticle(new ReadModelVerticle(inbox, applied)));
        OutboxRelay relay = outbox.relay(EventBusSink.create(vertx));
        join(relay.start());

        AtomicInteger refused = new AtomicInteger();
        List<Future<?>> placed = new ArrayList<>();
        for (long id = 1; id <= orders; id++) {
          long orderId = id;
          long userId = id % 5;
          placed.add(
              placeOrder(pool, outbox, orderId, userId, orderId * 10)
                  .recover(
                      e -> {
                        refused.incrementAndGet();
                        return Future.succeededFuture();
                      }));
        }
        join(Future.join(placed));
        if (!applied.await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the read model did not catch up");
        }
        // reconciliation: backlog, oldest age, stuck and unacknowledged messages, as gauges
        join(
            outbox
                .reconciler()
                .expectAcknowledgements("orders.created", inbox)
                .relay(relay)
                .runOnce());
        join(relay.stop());
        prometheus
            .scrape()
            .lines()
            .filter(line -> line.startsWith("shardkit_outbox_") && !line.contains("_bucket"))
            .forEach(line -> System.out.println("metric: " + line));
        for (JsonObject row :
            databases.get(0).query("SELECT * FROM user_orders ORDER BY user_id")) {
          System.out.println("ds_0 read model: " + row.encode());
        }
        for (JsonObject row :
            databases.get(1).query("SELECT * FROM user_orders ORDER BY user_id")) {
          System.out.println("ds_1 read model: " + row.encode());
        }
        System.out.println(
            "outbox example: done, "
                + (orders - refused.get())
                + " orders applied once, "
                + refused.get()
                + " refused without a message");
      } finally {
        pool.close().toCompletionStage().toCompletableFuture().join();
        databases.close();
        vertx.close().toCompletionStage().toCompletableFuture().join();
      }
    }
  }

  /** The order service: the order row and its message commit together, on the user's shard. */
  static Future<String> placeOrder(
      ShardedPool pool, Outbox outbox, long orderId, long userId, long amount) {
    return pool.withTransaction(
        conn ->
            conn.preparedQuery("INSERT INTO t_order (order_id, user_id, amount) VALUES (?, ?, ?)")
                .execute(Tuple.of(orderId, userId, amount))
                .compose(
                    rs ->
                        outbox.add(
                            conn,
                            OutboxMessage.json(
                                "orders.created",
                                userId,
                                new JsonObject()
                                    .put("orderId", orderId)
                                    .put("userId", userId)
                                    .put("amount", amount))))
                .compose(
                    messageId ->
                        amount == 130 // a business refusal after the message was added
                            ? Future.failedFuture(new IllegalStateException("order 13 refused"))
                            : Future.succeededFuture(messageId)));
  }

  /** The consumer: applies each OrderCreated once to the read model, then acknowledges it. */
  static final class ReadModelVerticle extends VerticleBase {
    private final Inbox inbox;
    private final CountDownLatch applied;

    ReadModelVerticle(Inbox inbox, CountDownLatch applied) {
      this.inbox = inbox;
      this.applied = applied;
    }

    @Override
    public Future<?> start() {
      return vertx
          .eventBus()
          .<Buffer>consumer(
              "orders.created",
              msg -> {
                OutboxMessage message = EventBusSink.message(msg);
                JsonObject order = message.payloadAsJson();
                long userId = order.getLong("userId");
                inbox
                    .apply(
                        message,
                        userId,
                        conn ->
                            conn.preparedQuery(
                                    "INSERT INTO user_orders (user_id, orders, total) VALUES (?, 1, ?)"
                                        + " ON DUPLICATE KEY UPDATE orders = orders + 1,"
                                        + " total = total + VALUES(total)")
                                .execute(Tuple.of(userId, order.getLong("amount"))))
                    .onSuccess(
                        fresh -> {
                          if (fresh) {
                            applied.countDown();
                          }
                          msg.reply(null);
                        })
                    .onFailure(e -> msg.fail(500, e.getMessage()));
              })
          .completion();
    }
  }

  private static <T> T join(Future<T> future) {
    return future.toCompletionStage().toCompletableFuture().join();
  }
}
