package io.shardkit.examples.tcc;

import io.shardkit.context.GrpcPropagation;
import io.shardkit.context.TxScope;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestShards;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.mysqlclient.MySQLConnectOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A TCC transaction across two gRPC services, on three testkit shards (embedded MariaDB unless
 * endpoints are configured).
 *
 * <ul>
 *   <li>{@link AccountService}: accounts on shards 0 and 1, serving {@code account.debit} (freeze /
 *       take / unfreeze) over gRPC, fenced on its own shards;
 *   <li>{@link OrderService}: orders on shard 2 with the TCC coordinator log; {@code PlaceOrder}
 *       runs a TCC transaction of the local {@code order.place} and the remote debit.
 * </ul>
 *
 * The client places three orders: two that the customers can pay and one that they cannot (the
 * remote try fails, so the order branch is cancelled too), then prints the orders and balances.
 * Each service runs on its own Vert.x instance, as two processes would.
 *
 * <p>Run it with {@code mvn -B -ntp -pl examples -am compile exec:java
 * -Dexec.mainClass=io.shardkit.examples.tcc.TccGrpcExample}.
 */
public final class TccGrpcExample {

  private TccGrpcExample() {}

  public static void main(String[] args) throws Exception {
    try (TestShards shards = TestShards.start(3)) {
      JsonObject summary = run(shards);
      System.out.println(summary.encodePrettily());
      if (!summary.getBoolean("consistent")) {
        throw new IllegalStateException("the example ended inconsistent: " + summary.encode());
      }
      System.out.println("TCC gRPC example: done, consistent");
    }
  }

  /**
   * Runs the example on {@code shards} and returns what happened: each order's answer, the final
   * orders and balances, and whether they agree.
   */
  public static JsonObject run(TestShards shards) throws Exception {
    ShardDatabases databases = shards.createDatabases("tcc_example", 3);
    Vertx accountVertx = Vertx.vertx();
    Vertx orderVertx = Vertx.vertx();
    Vertx clientVertx = Vertx.vertx();
    try {
      Map<String, MySQLConnectOptions> accountShards = new LinkedHashMap<>();
      accountShards.put("ds_0", databases.get(0).connectOptions());
      accountShards.put("ds_1", databases.get(1).connectOptions());
      AccountService accounts =
          await(AccountService.start(accountVertx, accountShards, Map.of(1L, 100L, 2L, 100L)));
      OrderService orders =
          await(
              OrderService.start(
                  orderVertx, databases.get(2).connectOptions(), accounts.address()));
      GrpcClient client = GrpcClient.client(clientVertx, GrpcPropagation.clientOptions());

      JsonArray answers = new JsonArray();
      for (JsonObject order :
          List.of(
              new JsonObject().put("order", 1001).put("customer", 1).put("amount", 30),
              new JsonObject().put("order", 1002).put("customer", 2).put("amount", 70),
              new JsonObject().put("order", 1003).put("customer", 1).put("amount", 500))) {
        JsonObject answer =
            await(call(client, orders.address(), OrderService.SERVICE, "PlaceOrder", order));
        System.out.println("PlaceOrder " + order.encode() + " -> " + answer.encode());
        answers.add(order.copy().mergeIn(answer));
      }

      JsonObject balances = new JsonObject();
      for (long account : List.of(1L, 2L)) {
        balances.put(
            Long.toString(account),
            await(
                call(
                    client,
                    accounts.address(),
                    AccountService.SERVICE,
                    "Balance",
                    new JsonObject().put("account", account))));
      }
      JsonObject finalOrders = new JsonObject();
      orders
          .pool()
          .query("SELECT id, status FROM orders ORDER BY id")
          .execute()
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS)
          .forEach(row -> finalOrders.put(row.getLong("id").toString(), row.getString("status")));

      boolean consistent =
          "CONFIRMED".equals(answers.getJsonObject(0).getString("status"))
              && "CONFIRMED".equals(answers.getJsonObject(1).getString("status"))
              && "CANCELLED".equals(answers.getJsonObject(2).getString("status"))
              && finalOrders.equals(
                  new JsonObject()
                      .put("1001", "CONFIRMED")
                      .put("1002", "CONFIRMED")
                      .put("1003", "CANCELLED"))
              && balances.getJsonObject("1").getLong("balance") == 70
              && balances.getJsonObject("1").getLong("frozen") == 0
              && balances.getJsonObject("2").getLong("balance") == 30
              && balances.getJsonObject("2").getLong("frozen") == 0;
      await(client.close());
      await(orders.close());
      await(accounts.close());
      return new JsonObject()
          .put("orders", answers)
          .put("finalOrders", finalOrders)
          .put("balances", balances)
          .put("openScopes", TxScope.registry().openScopes())
          .put("consistent", consistent);
    } finally {
      await(clientVertx.close());
      await(orderVertx.close());
      await(accountVertx.close());
      databases.close();
    }
  }

  private static Future<JsonObject> call(
      GrpcClient client,
      SocketAddress server,
      io.vertx.grpc.common.ServiceName service,
      String method,
      JsonObject body) {
    return client
        .request(server, Json.client(service, method))
        .compose(request -> request.timeout(10, TimeUnit.SECONDS).send(body.toBuffer()))
        .compose(response -> response.last())
        .map(Buffer::toJsonObject);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
