package io.shardkit.examples.snippets;

import io.shardkit.context.GrpcPropagation;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxScope;
import io.shardkit.router.ReadWriteSplittingOptions;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.tx.PostgresSourceOptions;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipants;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOutcomePendingException;
import io.shardkit.tx.TransactionOutcomeUnknownException;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.check.CheckOptions;
import io.shardkit.tx.check.ConsistencyChecker;
import io.shardkit.tx.grpc.TccGrpc;
import io.shardkit.tx.outbox.EventBusSink;
import io.shardkit.tx.outbox.Inbox;
import io.shardkit.tx.outbox.Outbox;
import io.shardkit.tx.outbox.OutboxMessage;
import io.shardkit.tx.outbox.OutboxRelay;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;

/**
 * The {@code java} code blocks of the READMEs, compiled so they cannot rot: {@code
 * ReadmeSnippetsTest} fails when a README block is not found here (or, for test code, in this
 * package's tests) with the same code, ignoring whitespace and comments. The methods are not run;
 * the runnable programs are the examples one package up.
 */
final class ReadmeSnippets {

  private ReadmeSnippets() {}

  /** README.md, "In code". */
  static void rootReadme(
      Vertx vertx, MySQLConnectOptions connectOptions0, MySQLConnectOptions connectOptions1) {
    ShardingRules rules =
        ShardingRules.fromJson(
            new JsonObject(
                """
        {"tables": {"t_order": {
           "dataNodes": "ds_${0..1}.t_order_${0..1}",
           "databaseStrategy": {"column": "user_id", "algorithm": {"type": "mod"}},
           "tableStrategy": {"column": "order_id", "algorithm": {"type": "mod"}}}}}
        """));
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSource("ds_0", connectOptions0, new PoolOptions().setMaxSize(8))
            .dataSource("ds_1", connectOptions1, new PoolOptions().setMaxSize(8))
            .build();

    pool.preparedQuery("SELECT * FROM t_order WHERE user_id = ? AND order_id = ?")
        .execute(Tuple.of(11, 4L)); // one shard, one table
    pool.query(
            "SELECT user_id, SUM(amount) AS total FROM t_order GROUP BY user_id ORDER BY user_id")
        .execute(); // all shards, merged
  }

  /** README.md, "Atomic transactions across shards". */
  static void rootReadmeTransactions(
      Vertx vertx,
      ShardingRules rules,
      MySQLConnectOptions connectOptions0,
      MySQLConnectOptions connectOptions1,
      TccAction<Move> debit,
      TccAction<Move> credit,
      SagaStep<Move, Long> withdraw,
      SagaStep<Move, Void> deposit,
      long from,
      long to) {
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSource("ds_0", connectOptions0, new PoolOptions().setMaxSize(8))
            .dataSource("ds_1", connectOptions1, new PoolOptions().setMaxSize(8))
            .transactionManager(p -> Transactions.create(vertx, p, TransactionsOptions.of("ds_0")))
            .build();
    Transactions transactions =
        Transactions.of(pool)
            .register(debit)
            .register(credit) // TCC actions (try / confirm / cancel)
            .register(withdraw)
            .register(deposit); // saga steps (action / compensation)
    transactions.installSchema(); // once: the coordinator log and fences (or use migrations)
    transactions.startRecovery(); // in every app instance

    // XA: atomic on every shard it touched, or on none; a deadline always applies
    pool.withTransaction(
        Duration.ofSeconds(2),
        conn ->
            conn.preparedQuery("UPDATE account SET balance = balance - ? WHERE id = ?")
                .execute(Tuple.of(30, from))
                .compose(
                    rs ->
                        conn.preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
                            .execute(Tuple.of(30, to))));

    // TCC: reserve on try, apply on confirm, release on cancel
    transactions.tcc(
        TransactionOptions.ofTimeout(Duration.ofSeconds(2)),
        tx ->
            Future.all(tx.enlist(debit, new Move(from, 30)), tx.enlist(credit, new Move(to, 30))));

    // Saga: each step applies at once; a failure undoes the steps that ran, in reverse order
    transactions.saga(
        TransactionOptions.ofTimeout(Duration.ofSeconds(2)),
        saga ->
            saga.step(withdraw, new Move(from, 30))
                .compose(v -> saga.step(deposit, new Move(to, 30)))); // deposit: retry-only
  }

  /** context-propagation/README.md, "The entry point". */
  static Future<String> contextPropagationReadme(Vertx vertx) {
    return TxScope.run(vertx, ScopeOptions.ofTimeout(Duration.ofSeconds(2)), () -> placeOrder());
  }

  private static Future<String> placeOrder() {
    return Future.succeededFuture("placed");
  }

  /** reactive-tx/README.md, "Outcomes, the same for XA, TCC and Saga". */
  static Future<Void> transferWithRetry(ShardedPool pool, long from, long to, int attemptsLeft) {
    return pool.<Void>withTransaction(Duration.ofSeconds(2), conn -> transfer(conn, from, to))
        .recover(
            failure -> {
              boolean rolledBack =
                  failure instanceof ShardkitTimeoutException t && !unknown(t)
                      || failure instanceof TransactionRolledBackException
                      || failure instanceof TransactionOutcomePendingException p
                          && p.decision() == TransactionOutcomePendingException.Decision.ROLLBACK;
              return rolledBack && attemptsLeft > 1
                  ? transferWithRetry(pool, from, to, attemptsLeft - 1)
                  : Future.failedFuture(failure); // the work's own failure, committed, or unknown
            });
  }

  static boolean unknown(ShardkitTimeoutException t) { // a commit or decision was in flight
    return t.getCause() instanceof TransactionOutcomeUnknownException
        || String.valueOf(t.getMessage()).contains("outcome is unknown");
  }

  private static Future<Void> transfer(io.vertx.sqlclient.SqlConnection conn, long from, long to) {
    return conn.preparedQuery("UPDATE account SET balance = balance - 1 WHERE id = ?")
        .execute(Tuple.of(from))
        .compose(
            rs ->
                conn.preparedQuery("UPDATE account SET balance = balance + 1 WHERE id = ?")
                    .execute(Tuple.of(to)))
        .mapEmpty();
  }

  /** reactive-router/README.md, first block. */
  static void routerReadme(
      Vertx vertx,
      JsonObject config,
      MySQLConnectOptions connectOptions0,
      MySQLConnectOptions connectOptions1) {
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(ShardingRules.fromJson(config.getJsonObject("sharding")))
            .dataSource("ds_0", connectOptions0, new PoolOptions().setMaxSize(8))
            .dataSource("ds_1", connectOptions1, new PoolOptions().setMaxSize(8))
            .build();
    pool.preparedQuery("SELECT * FROM t_order WHERE user_id = ? AND order_id = ?")
        .execute(Tuple.of(7, 42L));
  }

  /** reactive-router/README.md, "Read/write splitting over read replicas". */
  static ShardedPool routerReplicasReadme(
      Vertx vertx,
      ShardingRules rules,
      MySQLConnectOptions primary0,
      MySQLConnectOptions replica0a,
      MySQLConnectOptions replica0b,
      PoolOptions poolOptions) {
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSource("ds_0", primary0, poolOptions)
            .replica("ds_0", "ds_0_r1", replica0a, poolOptions) // weight 1
            .replica("ds_0", "ds_0_r2", replica0b, poolOptions, 3) // weight 3 (WEIGHT balancer)
            .readWriteSplitting(
                ReadWriteSplittingOptions.defaults()
                    .withLoadBalancer(ReadWriteSplittingOptions.LoadBalancer.WEIGHT)
                    .withMaxReplicationLag(Duration.ofSeconds(1)))
            .build();
    return pool;
  }

  /** reactive-tx/README.md, "Consistency checker". */
  static void checkerReadme(
      Vertx vertx, ShardedPool pool, TransactionsOptions transactionsOptions) {
    ConsistencyChecker checker =
        ConsistencyChecker.create(vertx, pool, CheckOptions.defaults(transactionsOptions));
    checker.check().onSuccess(report -> System.out.println(report.summary()));
  }

  /** reactive-tx/README.md, XA. */
  static void xaReadme(
      Vertx vertx, ShardingRules rules, java.util.Map<String, MySQLConnectOptions> connectOptions) {
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSources(connectOptions, new PoolOptions().setMaxSize(8))
            .transactionManager(
                p -> Transactions.create(vertx, p, TransactionsOptions.of("ds_0"))) // logs on ds_0
            .build();
    Transactions transactions = Transactions.of(pool);
    transactions.installSchema(); // once: XA + TCC logs, leases, fences (or use migrations)
    transactions.startRecovery(); // in every app instance: XA and TCC recovery

    pool.withTransaction(
        Duration.ofSeconds(2),
        conn ->
            conn.preparedQuery("UPDATE account SET balance = balance - ? WHERE id = ?")
                .execute(Tuple.of(10, 1))
                .compose(
                    rs ->
                        conn.preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
                            .execute(Tuple.of(10, 2))));
  }

  /** reactive-tx/README.md, PostgreSQL participants. */
  static void postgresReadme(
      Vertx vertx,
      ShardingRules rules,
      java.util.Map<String, MySQLConnectOptions> mysql,
      PoolOptions poolOptions) {
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSources(mysql, poolOptions)
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx,
                        p,
                        TransactionsOptions.builder("ds_0")
                            .postgres(
                                "ledger",
                                new PostgresSourceOptions(
                                        new PgConnectOptions()
                                            .setHost("pg1")
                                            .setDatabase("ledger")
                                            .setUser("app")
                                            .setPassword("…"))
                                    .poolOptions(new PoolOptions().setMaxSize(16)) // default 8
                                    .isolationLevel("REPEATABLE READ")) // default: the server's
                            .build()))
            .build();
    Transactions transactions = Transactions.of(pool);
    transactions.warmUp(); // also refuses a server with max_prepared_transactions = 0

    pool.withTransaction(
        Duration.ofSeconds(2),
        conn ->
            conn.preparedQuery("UPDATE account SET balance = balance - ? WHERE id = ?")
                .execute(Tuple.of(10, 1))
                .compose(rs -> transactions.postgres("ledger")) // enlists it on first use
                .compose(
                    pg ->
                        pg.preparedQuery("INSERT INTO entry (account, delta) VALUES ($1, $2)")
                            .execute(Tuple.of(1, 10))));
  }

  /** An account and an amount: the argument of the TCC actions below. */
  record Move(long account, long amount) {}

  /** reactive-tx/README.md, TCC. */
  static void tccReadme(
      Vertx vertx,
      ShardedPool shardedPool,
      TccAction<Move> debit,
      TccAction<Move> credit,
      SagaStep<Move, Long> withdraw,
      SagaStep<Move, Void> deposit,
      long from,
      long to) {
    Transactions transactions =
        Transactions.create(vertx, shardedPool, TransactionsOptions.of("ds_0"))
            .register(debit)
            .register(credit); // actions, by name (recovery finds them)
    transactions.installSchema(); // once: coordinator logs, leases, fences (or use migrations)
    transactions.startRecovery(); // in every app instance
    transactions.tcc(
        TransactionOptions.ofTimeout(Duration.ofSeconds(2)),
        tx ->
            Future.all(tx.enlist(debit, new Move(from, 30)), tx.enlist(credit, new Move(to, 30))));
  }

  /** reactive-tx/README.md, Saga. */
  static void sagaReadme(Transactions transactions, TccCodec<Move> codec, long a, long b, long to) {
    SagaStep<Move, Long> debit =
        SagaStep.builder("debit", codec)
            .shardedBy("account", Move::account)
            .action(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery(
                            "UPDATE account SET balance = balance - ? WHERE id = ? AND balance >= ?")
                        .execute(Tuple.of(m.amount(), m.account(), m.amount()))
                        .compose(
                            rs ->
                                rs.rowCount() == 1
                                    ? Future.succeededFuture(m.amount())
                                    : Future.<Long>failedFuture(
                                        new IllegalStateException("insufficient funds"))))
            .compensation(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
                        .execute(Tuple.of(m.amount(), m.account()))
                        .mapEmpty())
            .build();
    SagaStep<Move, Void> deposit =
        SagaStep.builder("deposit", codec)
            .shardedBy("account", Move::account)
            .retryOnly()
            .<Void>action(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
                        .execute(Tuple.of(m.amount(), m.account()))
                        .mapEmpty())
            .build();
    transactions.register(debit).register(deposit);
    transactions.saga(
        TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
        saga ->
            Future.all(saga.step(debit, new Move(a, 30)), saga.step(debit, new Move(b, 20)))
                .compose(v -> saga.step(deposit, new Move(to, 50))));
  }

  /** reactive-tx/README.md, Saga, a step served by another service over gRPC. */
  static void sagaGrpcReadme(
      Vertx vertx,
      ShardedPool accountPool,
      TccOptions tccOptions,
      SagaStep<Move, Long> debit,
      Transactions transactions,
      GrpcClient grpcClient,
      SocketAddress accountService,
      SagaStep<Move, Void> deposit,
      TccCodec<Move> codec,
      long a,
      long to) {
    // the account service: its fenced step (named "account.debit"), served over gRPC
    TccParticipants participants =
        TccParticipants.create(vertx, accountPool, tccOptions).register(debit);
    participants.setup(); // its fence, on its shards
    GrpcServer grpcServer = GrpcServer.server(vertx, GrpcPropagation.serverOptions());
    TccGrpc.bind(grpcServer, participants);
    // the coordinator (every instance that runs recovery): a reference and the participant
    SagaStep<Move, Void> remoteDebit =
        SagaStep.remote("account.debit", codec); // remoteRetryOnly too
    transactions
        .register(remoteDebit)
        .registerParticipant(
            "account.debit", TccGrpc.participant(vertx, grpcClient, accountService));
    transactions.saga(
        TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
        saga ->
            saga.step(remoteDebit, new Move(a, 30))
                .compose(v -> saga.step(deposit, new Move(to, 30))));
  }

  /** reactive-tx/README.md, "Transactional outbox". */
  static void outbox(Vertx vertx, ShardedPool pool) {
    ShardingRules rules =
        ShardingRules.builder()
            .table("account", t -> t.dataNodes("ds_${0..1}.account").databaseStrategy("id", "mod"))
            .table(
                "shardkit_outbox",
                t ->
                    t.dataNodes("ds_${0..1}.shardkit_outbox")
                        .databaseStrategy("aggregate_key", "mod"))
            .table(
                "shardkit_inbox",
                t -> t.dataNodes("ds_${0..1}.shardkit_inbox").databaseStrategy("shard_key", "mod"))
            .build();
    Outbox outbox = Outbox.create(vertx, pool); // pool built with these rules
    outbox.installSchema(); // outbox + lease tables on every shard
    pool.withTransaction(
        conn ->
            conn.preparedQuery("UPDATE account SET balance = balance - ? WHERE id = ?")
                .execute(Tuple.of(10, 7))
                .compose(
                    rs ->
                        outbox.add(
                            conn,
                            OutboxMessage.json(
                                "accounts", 7L, new JsonObject().put("debit", 10)))));
    OutboxRelay relay =
        outbox.relay(EventBusSink.create(vertx)); // or KafkaSink.create(vertx, config)
    relay.start(); // in every instance: leased per shard
    Inbox inbox = Inbox.create(pool, "statements");
    vertx
        .eventBus()
        .<Buffer>consumer(
            "accounts",
            msg -> {
              OutboxMessage m = EventBusSink.message(msg);
              inbox
                  .apply(
                      m,
                      7L,
                      conn ->
                          conn.preparedQuery(
                                  "UPDATE account SET version = version + 1 WHERE id = ?")
                              .execute(Tuple.of(7)))
                  .onSuccess(applied -> msg.reply(null)); // the reply is the acknowledgement
            });
    outbox.reconciler().expectAcknowledgements("accounts", inbox).start();
  }
}
