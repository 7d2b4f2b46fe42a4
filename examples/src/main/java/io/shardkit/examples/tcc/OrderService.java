package io.shardkit.examples.tcc;

import io.shardkit.context.GrpcPropagation;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOutcomePendingException;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.grpc.TccGrpc;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;

/**
 * The order service: its own shard holds the orders, the TCC coordinator log and a fence; its
 * {@code PlaceOrder} gRPC method runs one TCC transaction over two branches: the local {@code
 * order.place} (try: a PENDING order; confirm: CONFIRMED; cancel: CANCELLED) and the account
 * service's {@code account.debit}, reached over gRPC with the global id and the remaining time in
 * the call's metadata. Recovery runs in the background.
 */
final class OrderService {

  static final ServiceName SERVICE = ServiceName.create("shardkit.example.Orders");
  static final TccAction<AccountService.Debit> REMOTE_DEBIT =
      TccAction.remote("account.debit", AccountService.Debit.CODEC);

  /** The argument of {@code order.place}. */
  record Order(long id, long customer, long amount) {
    static final TccCodec<Order> CODEC =
        TccCodec.of(
            o ->
                new JsonObject()
                    .put("id", o.id())
                    .put("customer", o.customer())
                    .put("amount", o.amount()),
            j -> new Order(j.getLong("id"), j.getLong("customer"), j.getLong("amount")));
  }

  static final TccAction<Order> PLACE =
      TccAction.builder("order.place", Order.CODEC)
          .dataSource("ds_0")
          .onTry(
              (ctx, o) ->
                  ctx.connection()
                      .preparedQuery(
                          "INSERT INTO orders (id, customer, amount, status, gid)"
                              + " VALUES (?, ?, ?, 'PENDING', ?)")
                      .execute(Tuple.of(o.id(), o.customer(), o.amount(), ctx.globalId()))
                      .<Void>mapEmpty())
          .onConfirm(
              (ctx, o) ->
                  ctx.connection()
                      .preparedQuery("UPDATE orders SET status = 'CONFIRMED' WHERE id = ?")
                      .execute(Tuple.of(o.id()))
                      .<Void>mapEmpty())
          .onCancel(
              (ctx, o) ->
                  ctx.connection()
                      .preparedQuery("UPDATE orders SET status = 'CANCELLED' WHERE id = ?")
                      .execute(Tuple.of(o.id()))
                      .<Void>mapEmpty())
          .build();

  private final ShardedPool pool;
  private final GrpcClient accounts;
  private final Transactions transactions;
  private final HttpServer server;

  private OrderService(
      ShardedPool pool, GrpcClient accounts, Transactions transactions, HttpServer server) {
    this.pool = pool;
    this.accounts = accounts;
    this.transactions = transactions;
    this.server = server;
  }

  static Future<OrderService> start(
      Vertx vertx, MySQLConnectOptions shard, SocketAddress accountService) {
    ShardingRules rules = ShardingRules.builder().singleTable("orders", "ds_0").build();
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSource("ds_0", shard, new PoolOptions())
            .build();
    GrpcClient accounts = GrpcClient.client(vertx, GrpcPropagation.clientOptions());
    Transactions coordinator =
        Transactions.create(vertx, pool, TransactionsOptions.of("ds_0"))
            .register(PLACE)
            .registerParticipant(
                "account.debit", TccGrpc.participant(vertx, accounts, accountService));
    GrpcServer grpc = GrpcServer.server(vertx, GrpcPropagation.serverOptions());
    grpc.callHandler(
        Json.server(SERVICE, "PlaceOrder"),
        GrpcPropagation.create().unary(request -> placeOrder(coordinator, request)));
    return pool.query(DDL)
        .execute()
        .compose(v -> coordinator.installSchema())
        .compose(v -> coordinator.startRecovery())
        .compose(
            v ->
                vertx
                    .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                    .requestHandler(grpc)
                    .listen())
        .map(server -> new OrderService(pool, accounts, coordinator, server));
  }

  static final String DDL =
      "CREATE TABLE IF NOT EXISTS orders (id BIGINT PRIMARY KEY, customer BIGINT NOT NULL,"
          + " amount BIGINT NOT NULL, status VARCHAR(16) NOT NULL, gid VARCHAR(64) NOT NULL)";

  /**
   * One TCC transaction: the order and the remote debit, tried in parallel. {@code Future.join}
   * (not {@code all}) waits for both tries to finish before the transaction decides, so a debit
   * refused at once does not end the transaction while the order's try is still writing: the order
   * is then PENDING and its cancel marks it CANCELLED, every time.
   */
  private static Future<Buffer> placeOrder(Transactions coordinator, Buffer request) {
    JsonObject json = request.toJsonObject();
    Order order =
        new Order(json.getLong("order"), json.getLong("customer"), json.getLong("amount"));
    return coordinator
        .tcc(
            TransactionOptions.ofTimeout(Duration.ofSeconds(5)),
            tx ->
                Future.join(
                        tx.enlist(PLACE, order),
                        tx.enlist(
                            REMOTE_DEBIT,
                            new AccountService.Debit(order.customer(), order.amount())))
                    .map(tx.globalId()))
        .map(gid -> new JsonObject().put("status", "CONFIRMED").put("gid", gid))
        .recover(
            failure -> {
              JsonObject answer = new JsonObject();
              // cancelled: the work's own failure (e.g. the debit's refusal), shardkit's details
              // (global id, causes by branch) attached to it
              TransactionRolledBackException cancelled =
                  TransactionRolledBackException.of(failure).orElse(null);
              if (cancelled != null) {
                answer
                    .put("status", "CANCELLED")
                    .put("gid", cancelled.globalId())
                    .put("reason", failure.getMessage());
              } else if (failure instanceof TransactionOutcomePendingException e) {
                answer.put("status", "PENDING_" + e.decision()).put("gid", e.globalId());
              } else {
                answer.put("status", "FAILED").put("reason", failure.getMessage());
              }
              return Future.succeededFuture(answer);
            })
        .map(JsonObject::toBuffer);
  }

  SocketAddress address() {
    return SocketAddress.inetSocketAddress(server.actualPort(), "127.0.0.1");
  }

  ShardedPool pool() {
    return pool;
  }

  Future<Void> close() {
    return transactions
        .close()
        .compose(v -> server.close())
        .compose(v -> accounts.close())
        .compose(v -> pool.close());
  }
}
