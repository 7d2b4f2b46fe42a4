package io.shardkit.examples.tcc;

import io.shardkit.context.GrpcPropagation;
import io.shardkit.context.ShardkitException;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipants;
import io.shardkit.tx.grpc.TccGrpc;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.Map;

/**
 * The account service: accounts sharded by id over its own two shards, and the TCC action {@code
 * account.debit} served to other services' transactions over gRPC ({@link TccGrpc#bind}): try
 * freezes the amount (balance → frozen), confirm takes it (frozen leaves), cancel gives it back.
 * Its phases are fenced on its own shards. It also answers {@code Balance} queries.
 */
final class AccountService {

  static final ServiceName SERVICE = ServiceName.create("shardkit.example.Accounts");

  /** The argument of {@code account.debit}. */
  record Debit(long account, long amount) {
    static final TccCodec<Debit> CODEC =
        TccCodec.of(
            d -> new JsonObject().put("account", d.account()).put("amount", d.amount()),
            j -> new Debit(j.getLong("account"), j.getLong("amount")));
  }

  static final TccAction<Debit> DEBIT =
      TccAction.builder("account.debit", Debit.CODEC)
          .shardedBy("account", Debit::account)
          .onTry(
              (ctx, d) ->
                  ctx.client()
                      .preparedQuery(
                          "UPDATE account SET balance = balance - ?, frozen = frozen + ?"
                              + " WHERE id = ? AND balance >= ?")
                      .execute(Tuple.of(d.amount(), d.amount(), d.account(), d.amount()))
                      .compose(
                          rows ->
                              rows.rowCount() == 1
                                  ? Future.<Void>succeededFuture()
                                  : Future.failedFuture(
                                      new ShardkitException(
                                          "account " + d.account() + ": insufficient funds"))))
          .onConfirm(
              (ctx, d) ->
                  ctx.client()
                      .preparedQuery("UPDATE account SET frozen = frozen - ? WHERE id = ?")
                      .execute(Tuple.of(d.amount(), d.account()))
                      .<Void>mapEmpty())
          .onCancel(
              (ctx, d) ->
                  ctx.client()
                      .preparedQuery(
                          "UPDATE account SET balance = balance + ?, frozen = frozen - ?"
                              + " WHERE id = ?")
                      .execute(Tuple.of(d.amount(), d.amount(), d.account()))
                      .<Void>mapEmpty())
          .build();

  private final ShardedPool pool;
  private final TccParticipants participants;
  private final HttpServer server;

  private AccountService(ShardedPool pool, TccParticipants participants, HttpServer server) {
    this.pool = pool;
    this.participants = participants;
    this.server = server;
  }

  /** Creates the tables, opens the accounts and starts the gRPC server on a free port. */
  static Future<AccountService> start(
      Vertx vertx, Map<String, MySQLConnectOptions> shards, Map<Long, Long> openingBalances) {
    ShardingRules rules =
        ShardingRules.builder()
            .table("account", t -> t.dataNodes("ds_${0..1}.account").databaseStrategy("id", "mod"))
            .build();
    ShardedPool pool =
        ShardedPool.builder(vertx).rules(rules).dataSources(shards, new PoolOptions()).build();
    TccParticipants participants =
        TccParticipants.create(vertx, pool, TccOptions.defaults()).register(DEBIT);
    GrpcServer grpc = GrpcServer.server(vertx, GrpcPropagation.serverOptions());
    TccGrpc.bind(grpc, participants);
    grpc.callHandler(
        Json.server(SERVICE, "Balance"),
        GrpcPropagation.create()
            .unary(
                request ->
                    pool.preparedQuery("SELECT balance, frozen FROM account WHERE id = ?")
                        .execute(Tuple.of(request.toJsonObject().getLong("account")))
                        .map(
                            rows -> {
                              Row row = rows.iterator().next();
                              return new JsonObject()
                                  .put("balance", row.getLong("balance"))
                                  .put("frozen", row.getLong("frozen"))
                                  .toBuffer();
                            })));
    Future<Void> schema =
        Future.all(pool.pool("ds_0").query(DDL).execute(), pool.pool("ds_1").query(DDL).execute())
            .compose(v -> participants.setup());
    for (Map.Entry<Long, Long> account : openingBalances.entrySet()) {
      schema =
          schema.compose(
              v ->
                  pool.preparedQuery("INSERT INTO account (id, balance, frozen) VALUES (?, ?, 0)")
                      .execute(Tuple.of(account.getKey(), account.getValue()))
                      .mapEmpty());
    }
    return schema
        .compose(
            v ->
                vertx
                    .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                    .requestHandler(grpc)
                    .listen())
        .map(server -> new AccountService(pool, participants, server));
  }

  static final String DDL =
      "CREATE TABLE IF NOT EXISTS account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
          + " frozen BIGINT NOT NULL)";

  SocketAddress address() {
    return SocketAddress.inetSocketAddress(server.actualPort(), "127.0.0.1");
  }

  TccParticipants participants() {
    return participants;
  }

  Future<Void> close() {
    return server.close().compose(v -> pool.close());
  }
}
