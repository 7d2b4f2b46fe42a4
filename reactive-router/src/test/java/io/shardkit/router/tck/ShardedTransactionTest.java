package io.shardkit.router.tck;

import io.vertx.ext.unit.junit.VertxUnitRunner;
import io.vertx.sqlclient.Pool;
import io.vertx.tests.sqlclient.tck.TransactionTestBase;
import org.junit.runner.RunWith;

/** vertx-sql-client's {@link TransactionTestBase} against ShardedPool. */
@RunWith(VertxUnitRunner.class)
public class ShardedTransactionTest extends TransactionTestBase {

  @Override
  protected Pool createPool() {
    return TckDatabase.pool(vertx);
  }

  @Override
  protected Pool nonTxPool() {
    return TckDatabase.pool(vertx);
  }

  @Override
  protected String statement(String... parts) {
    return String.join("?", parts);
  }
}
