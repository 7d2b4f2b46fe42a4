package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.TestPostgres;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A transaction manager configured from JSON alone, with a PostgreSQL source in its {@code
 * "postgres"} section, commits one XA transaction across a MariaDB shard and that source (2 real
 * MariaDB shards from the testkit, a real PostgreSQL 14 from {@link TestPostgres}).
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class PgJsonConfigTest {

  @Test
  void transactionsReadFromJsonCommitAcrossMySqlAndAJsonPostgresSource(ShardDatabases dbs)
      throws Exception {
    try (TestPostgres pg = TestPostgres.start()) {
      pg.execute(
          PgXaTest.PG_ACCOUNT, PgXaTest.PG_TRANSFER, "INSERT INTO account VALUES (100, 100)");
      XaFixture.createTables(dbs);
      JsonObject json =
          new JsonObject()
              .put("logDataSource", "ds_0")
              .put("decisionOnParticipant", false) // the decision in the log, every branch prepared
              .put(
                  "postgres",
                  new JsonObject()
                      .put(
                          "ledger",
                          new JsonObject()
                              .put("host", pg.host())
                              .put("port", pg.port())
                              .put("database", pg.database())
                              .put("user", pg.user())
                              .put("password", "")
                              .put("maxSize", 2)
                              .put("isolationLevel", "REPEATABLE READ")
                              .put(
                                  "circuitBreaker",
                                  new JsonObject().put("windowSize", 10).put("minimumCalls", 5))));
      try (XaFixture fx = new XaFixture(dbs, TransactionsOptions.fromJson(json), 4)) {
        await(fx.transactions.installSchema());
        await(fx.transactions.warmUp()); // checks max_prepared_transactions on "ledger"
        fx.resetAccounts(4, 100);
        AtomicReference<String> gid = new AtomicReference<>();
        AtomicReference<String> isolation = new AtomicReference<>();

        await(
            fx.pool.withTransaction(
                Duration.ofSeconds(10),
                sql -> {
                  gid.set(TxScope.current().orElseThrow().globalId());
                  return sql.preparedQuery("UPDATE account SET balance = balance - ? WHERE id = ?")
                      .execute(Tuple.of(40, 1))
                      .compose(rs -> fx.transactions.postgres("ledger"))
                      .compose(
                          p ->
                              p.query("SHOW transaction_isolation")
                                  .execute()
                                  .compose(
                                      rows -> {
                                        isolation.set(rows.iterator().next().getString(0));
                                        return p.preparedQuery(
                                                "UPDATE account SET balance = balance + $1"
                                                    + " WHERE id = $2")
                                            .execute(Tuple.of(40, 100));
                                      }))
                      .mapEmpty();
                }));

        assertThat(fx.balance(1)).as("account 1 on ds_1").isEqualTo(60);
        assertThat(pg.query("SELECT balance FROM account WHERE id = 100").get(0).getLong("balance"))
            .as("account 100 on the JSON-configured source")
            .isEqualTo(140);
        assertThat(isolation.get()).as("the JSON isolationLevel").isEqualTo("repeatable read");
        assertThat(await(fx.transactions.decision(gid.get()))).contains(Decision.COMMIT);
        assertThat(pg.preparedTransactions()).as("pg_prepared_xacts").isEmpty();
        assertThat(fx.preparedBranchesEverywhere()).as("XA RECOVER").isZero();
      }
    }
  }
}
