package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.GrpcPropagation;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabase;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipants;
import io.shardkit.tx.grpc.TccGrpc;
import io.shardkit.tx.impl.tcc.LocalParticipants;
import io.shardkit.tx.impl.tcc.TccCoordinatorImpl;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.mysqlclient.MySQLConnectOptions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A remote participant over real Vert.x gRPC: the account service (its own pool on shards 0 and 1,
 * its own fence) serves {@code account.debit}; the coordinator (on shard 2) runs a local {@code
 * credit} and enlists the remote debit. The global id and the remaining time travel in metadata.
 */
@Shards(3)
@ExtendWith(LeakGuardExtension.class)
class TccGrpcTest {

  static final TccOptions OPTIONS =
      TccOptions.builder()
          .tablePrefix("grpc_t")
          .phaseTimeout(Duration.ofSeconds(2))
          .completionTimeout(Duration.ofSeconds(4))
          .retryInitialDelay(Duration.ofMillis(20))
          .build();

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardedPool accountPool;
  static ShardedPool orderPool;
  static HttpServer server;
  static GrpcClient client;
  static SocketAddress address;
  static LocalParticipants accountService;
  static Bank remoteBank;
  static final AtomicReference<TxContext> seenByService = new AtomicReference<>();
  static final TccAction<Bank.Move> REMOTE_DEBIT = TccAction.remote("account.debit", Bank.CODEC);
  Bank localBank;
  TccCoordinatorImpl coordinator;

  @BeforeAll
  static void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    vertx = TccTestSupport.vertx();
    Map<String, MySQLConnectOptions> accountShards = new LinkedHashMap<>();
    accountShards.put("ds_0", dbs.get(0).connectOptions());
    accountShards.put("ds_1", dbs.get(1).connectOptions());
    accountPool = TccTestSupport.pool(vertx, accountShards);
    orderPool = TccTestSupport.pool(vertx, Map.of("ds_0", dbs.get(2).connectOptions()));
    remoteBank = new Bank("account.debit", "account.credit");
    accountService = (LocalParticipants) TccParticipants.create(vertx, accountPool, OPTIONS);
    accountService.register(remoteBank.debit);
    GrpcServer grpcServer = GrpcServer.server(vertx, GrpcPropagation.serverOptions());
    TccGrpc.bind(grpcServer, accountService);
    server =
        await(
            vertx
                .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(grpcServer)
                .listen());
    address = SocketAddress.inetSocketAddress(server.actualPort(), "127.0.0.1");
    client = GrpcClient.client(vertx, GrpcPropagation.clientOptions());
  }

  @AfterAll
  static void stop() throws Exception {
    await(client.close());
    await(server.close());
    await(accountPool.close());
    await(orderPool.close());
    TccTestSupport.close(vertx);
  }

  @BeforeEach
  void reset() throws Exception {
    for (ShardDatabase db : databases.all()) {
      db.execute(
          "DROP TABLE IF EXISTS account",
          "DROP TABLE IF EXISTS " + OPTIONS.fenceTable(),
          "DROP TABLE IF EXISTS " + OPTIONS.txTable(),
          Bank.DDL);
    }
    databases.get(0).execute("INSERT INTO account (id, balance) VALUES (0, 100)");
    databases.get(1).execute("INSERT INTO account (id, balance) VALUES (1, 100)");
    databases.get(2).execute("INSERT INTO account (id, balance) VALUES (7, 100)");
    await(accountService.setup());
    accountService.beforeCommit(
        (phase, branch) -> {
          if (phase.equals("try")) {
            seenByService.set(TxScope.current().orElse(null));
          }
          return Future.succeededFuture();
        });
    localBank = new Bank();
    coordinator = TccTestSupport.coordinator(vertx, orderPool, OPTIONS);
    coordinator.register(localBank.credit);
    coordinator.registerParticipant("account.debit", TccGrpc.participant(vertx, client, address));
    await(coordinator.setup());
  }

  static long[] account(int shard, long id) {
    JsonObject row =
        databases
            .get(shard)
            .query("SELECT balance, frozen, incoming FROM account WHERE id = " + id)
            .get(0);
    return new long[] {row.getLong("balance"), row.getLong("frozen"), row.getLong("incoming")};
  }

  @Test
  void transferAcrossARemoteParticipantConfirmsBothSidesUnderOneGlobalId() throws Exception {
    Duration timeout = Duration.ofSeconds(5);

    String gid =
        await(
            coordinator.execute(
                timeout,
                tx ->
                    Future.all(
                            tx.enlist(REMOTE_DEBIT, new Bank.Move(1, 40)),
                            tx.enlist(localBank.credit, new Bank.Move(7, 40)))
                        .map(tx.globalId())));

    assertThat(account(1, 1)).containsExactly(60, 0, 0);
    assertThat(account(2, 7)).containsExactly(140, 0, 0);
    assertThat(seenByService.get().globalId()).isEqualTo(gid);
    assertThat(seenByService.get().branchId()).contains("1");
    assertThat(seenByService.get().deadline().remaining()).isLessThan(timeout);
    assertThat(remoteBank.runs("account.debit.confirm")).isEqualTo(1);
    List<JsonObject> remoteFence =
        databases
            .get(1)
            .query("SELECT phase FROM " + OPTIONS.fenceTable() + " WHERE gid = '" + gid + "'");
    assertThat(remoteFence).extracting(r -> r.getInteger("phase")).containsExactly(1, 2);
  }

  @Test
  void remoteTryFailureCancelsTheLocalBranchAndRecordsTheRemoteEmptyRollback() throws Exception {
    Throwable actual =
        awaitFailure(
            coordinator.execute(
                Duration.ofSeconds(5),
                tx ->
                    tx.enlist(localBank.credit, new Bank.Move(7, 500))
                        .compose(v -> tx.enlist(REMOTE_DEBIT, new Bank.Move(0, 500)))));

    assertThat(TccTestSupport.rolledBack(actual)).as("shardkit's details").isNotNull();
    assertThat((TccTestSupport.rolledBack(actual)).causes().get("2:account.debit"))
        .hasMessageContaining("insufficient funds");
    assertThat(account(0, 0)).containsExactly(100, 0, 0);
    assertThat(account(2, 7)).containsExactly(100, 0, 0);
    assertThat(localBank.runs("credit.cancel")).isEqualTo(1);
    assertThat(remoteBank.runs("account.debit.cancel")).isZero();
    List<JsonObject> remoteFence =
        databases
            .get(0)
            .query("SELECT phase, origin FROM " + OPTIONS.fenceTable() + " ORDER BY phase");
    assertThat(remoteFence)
        .extracting(r -> r.getInteger("phase") + "/" + r.getInteger("origin"))
        .containsExactly("1/3", "3/3");
  }

  @Test
  void remoteTryThatNeverAnswersIsCancelledAtTheDeadlineOnBothSides() throws Exception {
    accountService.beforeCommit(
        (phase, branch) ->
            phase.equals("try") ? Promise.<Void>promise().future() : Future.succeededFuture());
    Duration expectedTimeout = Duration.ofMillis(700);
    long start = System.nanoTime();

    Throwable actual =
        awaitFailure(
            coordinator.execute(
                expectedTimeout, tx -> tx.enlist(REMOTE_DEBIT, new Bank.Move(1, 40))));
    Duration waited = Duration.ofNanos(System.nanoTime() - start);
    new LeakGuardExtension(Duration.ofSeconds(3)).check("after the remote stuck try");

    assertThat(TccTestSupport.rolledBack(actual)).as("shardkit's details").isNotNull();
    assertThat(waited).isLessThan(expectedTimeout.plusSeconds(3));
    assertThat(account(1, 1)).containsExactly(100, 0, 0);
    List<JsonObject> remoteFence =
        databases
            .get(1)
            .query("SELECT phase, origin FROM " + OPTIONS.fenceTable() + " ORDER BY phase");
    assertThat(remoteFence)
        .extracting(r -> r.getInteger("phase") + "/" + r.getInteger("origin"))
        .containsExactly("1/3", "3/3");
  }
}
