package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.GrpcPropagation;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOutcomePendingException;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.grpc.TccGrpc;
import io.shardkit.tx.impl.TransactionsImpl;
import io.shardkit.tx.impl.tcc.LocalParticipants;
import io.shardkit.tx.impl.tcc.TccRecoveryReport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.mysqlclient.MySQLConnectOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Saga steps served by another process's participant over real Vert.x gRPC. The account service is
 * a second Vert.x instance with its own pool (shards 0 and 1), its own {@link Transactions} holding
 * the fenced step {@code account.debit}, served by {@link TccGrpc#bind} on a real HTTP/2 server on
 * a free port. The order service (the saga's coordinator, its own Vert.x and pool on shard 2) runs
 * local steps and references the remote one with {@link SagaStep#remote}. Accounts 0 and 1 belong
 * to the account service, 7 and 8 to the order service.
 */
@Shards(3)
@ExtendWith(LeakGuardExtension.class)
class SagaGrpcTest {

  static final TccOptions OPTIONS =
      TccOptions.builder()
          .tablePrefix("saga_g")
          .phaseTimeout(Duration.ofMillis(800))
          .completionTimeout(Duration.ofMillis(1500))
          .recoveryInterval(Duration.ofMillis(300))
          .recoveryGrace(Duration.ofMillis(300))
          .recoveryLease(Duration.ofSeconds(2))
          .retryInitialDelay(Duration.ofMillis(20))
          .retryMaxDelay(Duration.ofMillis(200))
          .build();
  static final TransactionOptions TIMEOUT = TransactionOptions.ofTimeout(Duration.ofSeconds(5));
  static final SagaStep<Bank.Move, Void> REMOTE_DEBIT =
      SagaStep.remote("account.debit", Bank.CODEC);

  ShardDatabases databases;

  // the account service: another Vert.x, its pool, its manager, its gRPC server
  Vertx serviceVertx;
  ShardedPool servicePool;
  Transactions service;
  SagaBank served;
  GrpcServer grpcServer;
  HttpServer httpServer;
  int port;

  /** What the service saw in its scope when each phase ran: "action" / "compensation" → ctx. */
  final Map<String, TxContext> seenByService = new ConcurrentHashMap<>();

  /** The saga's global id and deadline, as the coordinator's body saw them. */
  final AtomicReference<TxContext> sagaScope = new AtomicReference<>();

  /** When the body called the remote step (System.nanoTime()). */
  final AtomicLong stepCalledAt = new AtomicLong();

  /** How much later than the saga's the service's deadline was (nanoseconds). */
  final AtomicLong deadlineLaterBy = new AtomicLong(Long.MIN_VALUE);

  // the order service: the coordinator
  Vertx vertx;
  ShardedPool pool;
  Transactions coordinator;
  SagaBank bank;
  GrpcClient client;
  TccParticipant remote;

  @BeforeEach
  void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    SagaBank.reset(dbs, OPTIONS);
    dbs.get(0).execute("INSERT INTO account (id, balance) VALUES (0, 100)");
    dbs.get(1).execute("INSERT INTO account (id, balance) VALUES (1, 100)");
    dbs.get(2).execute("INSERT INTO account (id, balance) VALUES (7, 100), (8, 100)");

    serviceVertx = TccTestSupport.vertx();
    Map<String, MySQLConnectOptions> accountShards = new LinkedHashMap<>();
    accountShards.put("ds_0", dbs.get(0).connectOptions());
    accountShards.put("ds_1", dbs.get(1).connectOptions());
    servicePool = TccTestSupport.pool(serviceVertx, accountShards);
    service =
        Transactions.create(
            serviceVertx, servicePool, TransactionsOptions.builder("ds_0").tcc(OPTIONS).build());
    served = new SagaBank("account.");
    service.register(served.debit);
    await(service.installSchema());
    // Runs on the service, inside each phase's local transaction, in the scope the gRPC metadata
    // gave the call: the action refuses to run unless that scope is the saga's: same global id,
    // and the saga's deadline, which gRPC carries as the time left when the call was sent
    // (grpc-timeout), so the service's deadline may only exceed the saga's by the time the call
    // took to arrive, which is less than the time since the body called the step.
    ((LocalParticipants) service.participants())
        .beforeCommit(
            (phase, branch) -> {
              TxContext seen = TxScope.current().orElse(null);
              if (seen != null) {
                seenByService.put(phase, seen);
              }
              TxContext saga = sagaScope.get();
              if (phase.equals("action")) {
                if (seen == null || saga == null) {
                  return Future.failedFuture(new ShardkitException("no scope on the service"));
                }
                if (!seen.globalId().equals(saga.globalId())) {
                  return Future.failedFuture(
                      new ShardkitException(
                          "service saw gid " + seen.globalId() + ", saga is " + saga.globalId()));
                }
                long sinceCalled = System.nanoTime() - stepCalledAt.get();
                long later = seen.deadline().remainingNanos() - saga.deadline().remainingNanos();
                deadlineLaterBy.set(later);
                if (saga.deadline().isExpired() || later > sinceCalled) {
                  return Future.failedFuture(
                      new ShardkitException(
                          "the service's deadline is "
                              + later
                              + " ns later than the saga's, more than the "
                              + sinceCalled
                              + " ns since the step was called"));
                }
              }
              return Future.succeededFuture();
            });
    grpcServer = GrpcServer.server(serviceVertx, GrpcPropagation.serverOptions());
    TccGrpc.bind(grpcServer, service.participants());
    httpServer = await(listen(0));
    port = httpServer.actualPort();

    vertx = TccTestSupport.vertx();
    pool = TccTestSupport.pool(vertx, Map.of("ds_0", dbs.get(2).connectOptions()));
    coordinator =
        Transactions.create(vertx, pool, TransactionsOptions.builder("ds_0").tcc(OPTIONS).build());
    bank = new SagaBank();
    client = GrpcClient.client(vertx, GrpcPropagation.clientOptions());
    remote = TccGrpc.participant(vertx, client, SocketAddress.inetSocketAddress(port, "127.0.0.1"));
    coordinator
        .register(bank.debit)
        .register(bank.credit)
        .register(REMOTE_DEBIT)
        .registerParticipant("account.debit", remote);
    await(coordinator.installSchema());
  }

  Future<HttpServer> listen(int at) {
    return serviceVertx
        .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(at))
        .requestHandler(grpcServer)
        .listen();
  }

  @AfterEach
  void stop() throws Exception {
    await(coordinator.close());
    await(client.close());
    await(pool.close());
    TccTestSupport.close(vertx);
    if (httpServer != null) {
      await(httpServer.close());
    }
    await(service.close());
    await(servicePool.close());
    TccTestSupport.close(serviceVertx);
  }

  static Bank.Move move(long account, long amount) {
    return new Bank.Move(account, amount);
  }

  long balance(int shard, long account) {
    return databases
        .get(shard)
        .query("SELECT balance FROM account WHERE id = " + account)
        .get(0)
        .getLong("balance");
  }

  int logState(String gid) {
    List<JsonObject> rows =
        databases
            .get(2)
            .query("SELECT state FROM " + OPTIONS.txTable() + " WHERE gid = '" + gid + "'");
    return rows.isEmpty() ? -1 : rows.get(0).getInteger("state");
  }

  /** The journal rows of one gid on every shard, oldest first: "branch:step.kind". */
  List<String> journal(String gid) {
    List<String> rows = new ArrayList<>();
    for (JsonObject row : SagaBank.journal(databases)) {
      if (row.getString("gid").equals(gid)) {
        rows.add(
            row.getString("branch_id") + ":" + row.getString("step") + "." + row.getString("kind"));
      }
    }
    return rows;
  }

  /** Runs the coordinator's recovery rounds until one claimed something (or 10 s passed). */
  /**
   * Recovery rounds until one cancels {@code gid} (at most 10 s): the first round after the service
   * came back may still meet the gRPC client's reconnect back-off, and then leaves the row to the
   * next round.
   */
  TccRecoveryReport recoverUntilCancelled(String gid) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    TccRecoveryReport last = null;
    while (System.nanoTime() < end) {
      last = await(((TransactionsImpl) coordinator).tccCoordinator().recovery().runOnce());
      if (last.cancelled().contains(gid)) {
        return last;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        "recovery did not cancel " + gid + " within 10 s; last round: " + last);
  }

  TccRecoveryReport recoverWhenDue() throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < end) {
      TccRecoveryReport report =
          await(((TransactionsImpl) coordinator).tccCoordinator().recovery().runOnce());
      if (report.claimed() > 0) {
        return report;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("nothing became due for recovery");
  }

  @Test
  void theRemoteActionRunsOnTheServiceUnderTheSagasGlobalIdAndDeadline() throws Exception {
    String gid =
        await(
            coordinator.saga(
                TIMEOUT,
                saga -> {
                  sagaScope.set(TxScope.current().orElseThrow());
                  return saga.step(bank.debit, move(7, 30))
                      .compose(
                          v -> {
                            stepCalledAt.set(System.nanoTime());
                            return saga.step(REMOTE_DEBIT, move(1, 30));
                          })
                      .map(v -> saga.globalId());
                }));

    // checked on the service while the action ran (it refuses otherwise), and again here
    TxContext seen = seenByService.get("action");
    assertThat(seen).as("the service ran the action in a scope").isNotNull();
    assertThat(seen.globalId()).isEqualTo(gid);
    assertThat(seen.branchId()).contains("2");
    System.out.printf(
        "service deadline later than the saga's by %.3f ms (call in flight)%n",
        deadlineLaterBy.get() / 1e6);
    assertThat(deadlineLaterBy.get()).as("checked by the service").isNotEqualTo(Long.MIN_VALUE);
    assertThat(deadlineLaterBy.get())
        .as("the saga's deadline, not a timeout of the service's own (ns)")
        .isLessThan(Duration.ofMillis(500).toNanos());
    assertThat(served.runs("debit.action")).isEqualTo(1);
    assertThat(bank.runs("debit.action")).isEqualTo(1);
    assertThat(balance(1, 1)).isEqualTo(70);
    assertThat(balance(2, 7)).isEqualTo(70);
    assertThat(journal(gid)).containsExactly("1:debit.action", "2:account.debit.action");
    assertThat(Bank.fence(databases, 1, OPTIONS, gid, "2")).containsExactly(Map.entry(1, 1));
    assertThat(logState(gid)).isEqualTo(4);
  }

  @Test
  void aLaterLocalFailureCompensatesTheRemoteStepThroughGrpcInReverseOrder() throws Exception {
    AtomicReference<String> gid = new AtomicReference<>();

    Throwable actual =
        awaitFailure(
            coordinator.saga(
                TIMEOUT,
                saga -> {
                  gid.set(saga.globalId());
                  sagaScope.set(TxScope.current().orElseThrow());
                  return saga.step(bank.debit, move(7, 10))
                      .compose(
                          v -> {
                            stepCalledAt.set(System.nanoTime());
                            return saga.step(REMOTE_DEBIT, move(1, 20));
                          })
                      .compose(v -> saga.step(bank.credit, move(8, 5)))
                      .compose(v -> saga.step(bank.debit, move(7, 1_000))); // fails
                }));

    assertThat(TccTestSupport.rolledBack(actual)).as("shardkit's details").isNotNull();
    TransactionRolledBackException rolledBack = TccTestSupport.rolledBack(actual);
    assertThat(rolledBack.globalId()).isEqualTo(gid.get());
    assertThat(rolledBack.phase()).isEqualTo("action");
    assertThat(rolledBack.causes()).containsOnlyKeys("4:debit");
    assertThat(journal(gid.get()))
        .containsExactly(
            "1:debit.action",
            "2:account.debit.action",
            "3:credit.action",
            "3:credit.compensation",
            "2:account.debit.compensation",
            "1:debit.compensation");
    assertThat(served.runs("debit.compensation")).isEqualTo(1);
    assertThat(seenByService.get("compensation").globalId()).isEqualTo(gid.get());
    assertThat(seenByService.get("compensation").branchId()).contains("2");
    assertThat(new long[] {balance(1, 1), balance(2, 7), balance(2, 8)})
        .containsExactly(100, 100, 100);
    assertThat(Bank.fence(databases, 1, OPTIONS, gid.get(), "2"))
        .containsExactly(Map.entry(1, 1), Map.entry(3, 3));
    assertThat(logState(gid.get())).isEqualTo(5);
  }

  @Test
  void aServiceDownDuringCompensationLeavesThePendingRollbackToRecoveryWhichUndoesItOnce()
      throws Exception {
    AtomicReference<String> gid = new AtomicReference<>();

    Throwable actual =
        awaitFailure(
            coordinator.saga(
                TIMEOUT,
                saga -> {
                  gid.set(saga.globalId());
                  sagaScope.set(TxScope.current().orElseThrow());
                  return saga.step(bank.credit, move(8, 5))
                      .compose(
                          v -> {
                            stepCalledAt.set(System.nanoTime());
                            return saga.step(REMOTE_DEBIT, move(1, 30));
                          })
                      // the account service goes away after its step ran
                      .compose(v -> httpServer.close())
                      .compose(v -> saga.step(bank.debit, move(7, 1_000))); // fails
                }));
    httpServer = null;
    int stateWhileDown = logState(gid.get());
    long remoteWhileDown = balance(1, 1);
    List<String> journalWhileDown = journal(gid.get());
    // a recovery round while the service is still down cannot finish it either
    TccRecoveryReport down = recoverWhenDue();
    int stateAfterFailedRound = logState(gid.get());
    // the service comes back on its address
    httpServer = await(listen(port));
    TccRecoveryReport up = recoverUntilCancelled(gid.get());
    TccRecoveryReport after =
        await(((TransactionsImpl) coordinator).tccCoordinator().recovery().runOnce());
    TccPhaseOutcome resent =
        await(remote.cancel(new TccBranch(gid.get(), "2", "account.debit", move(1, 30).toJson())));

    // the caller is told: rollback decided, branches 2 (remote) and 1 (after it) not yet undone
    assertThat(actual).isInstanceOf(TransactionOutcomePendingException.class);
    TransactionOutcomePendingException pending = (TransactionOutcomePendingException) actual;
    assertThat(pending.globalId()).isEqualTo(gid.get());
    assertThat(pending.decision()).isEqualTo(TransactionOutcomePendingException.Decision.ROLLBACK);
    assertThat(pending.pendingBranches()).containsExactly("2", "1");
    assertThat(TccTestSupport.rolledBack(pending.getCause())).isNotNull();
    assertThat(TccTestSupport.rolledBack(pending.getCause()).causes()).containsKey("3:debit");
    assertThat(stateWhileDown).as("CANCEL decided").isEqualTo(3);
    assertThat(remoteWhileDown).as("the remote debit is still applied").isEqualTo(70);
    assertThat(journalWhileDown)
        .as("nothing compensated while the service is down: the local step before it waits")
        .containsExactly("1:credit.action", "2:account.debit.action");
    assertThat(down.cancelled()).doesNotContain(gid.get());
    assertThat(stateAfterFailedRound).isEqualTo(3);
    assertThat(up.cancelled()).containsExactly(gid.get());
    assertThat(after.claimed()).isZero();
    assertThat(resent)
        .as("the compensation re-sent after recovery")
        .isEqualTo(TccPhaseOutcome.DUPLICATE);
    // undone exactly once, in reverse order, from the data
    assertThat(journal(gid.get()))
        .containsExactly(
            "1:credit.action",
            "2:account.debit.action",
            "2:account.debit.compensation",
            "1:credit.compensation");
    assertThat(served.runs("debit.compensation")).isEqualTo(1);
    assertThat(new long[] {balance(1, 1), balance(2, 7), balance(2, 8)})
        .containsExactly(100, 100, 100);
    assertThat(Bank.fence(databases, 1, OPTIONS, gid.get(), "2"))
        .containsExactly(Map.entry(1, 1), Map.entry(3, 3));
    assertThat(logState(gid.get())).isEqualTo(5);
  }

  @Test
  void aServiceDownWhenTheActionIsCalledIsCompensatedTooAnEmptyRollbackOnceItIsBack()
      throws Exception {
    AtomicReference<String> gid = new AtomicReference<>();

    Throwable actual =
        awaitFailure(
            coordinator.saga(
                TIMEOUT,
                saga -> {
                  gid.set(saga.globalId());
                  sagaScope.set(TxScope.current().orElseThrow());
                  return saga.step(bank.credit, move(8, 5))
                      .compose(v -> httpServer.close())
                      .compose(v -> saga.step(REMOTE_DEBIT, move(1, 30)));
                }));
    httpServer = null;
    httpServer = await(listen(port));
    TccRecoveryReport up = recoverUntilCancelled(gid.get());
    TccBranch step = new TccBranch(gid.get(), "2", "account.debit", move(1, 30).toJson());
    Throwable lateAction = awaitFailure(remote.tryBranch(step));

    // the action may have run for all the coordinator knows: its compensation is owed too
    assertThat(actual).isInstanceOf(TransactionOutcomePendingException.class);
    TransactionOutcomePendingException pending = (TransactionOutcomePendingException) actual;
    assertThat(pending.decision()).isEqualTo(TransactionOutcomePendingException.Decision.ROLLBACK);
    assertThat(pending.pendingBranches()).containsExactly("2", "1");
    assertThat(TccTestSupport.rolledBack(pending.getCause()).causes())
        .containsOnlyKeys("2:account.debit");
    assertThat(up.cancelled()).containsExactly(gid.get());
    // the service never ran the action; its compensation was an empty rollback whose marker
    // refuses the action if it ever arrives
    assertThat(served.runs("debit.action") + served.runs("debit.compensation")).isZero();
    assertThat(Bank.fence(databases, 1, OPTIONS, gid.get(), "2"))
        .containsExactly(Map.entry(1, 3), Map.entry(3, 3));
    assertThat(lateAction).isInstanceOf(io.shardkit.tx.TccTryRefusedException.class);
    assertThat(journal(gid.get())).containsExactly("1:credit.action", "1:credit.compensation");
    assertThat(new long[] {balance(1, 1), balance(2, 8)}).containsExactly(100, 100);
    assertThat(logState(gid.get())).isEqualTo(5);
  }
}
