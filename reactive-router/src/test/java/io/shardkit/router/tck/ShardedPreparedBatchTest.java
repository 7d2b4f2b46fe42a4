package io.shardkit.router.tck;

import io.vertx.ext.unit.junit.VertxUnitRunner;
import io.vertx.tests.sqlclient.tck.PreparedBatchTestBase;
import org.junit.runner.RunWith;

/** vertx-sql-client's {@link PreparedBatchTestBase} against ShardedPool connections. */
@RunWith(VertxUnitRunner.class)
public class ShardedPreparedBatchTest extends PreparedBatchTestBase {

  @Override
  protected void initConnector() {
    connector = TckDatabase.connector(vertx);
  }

  @Override
  protected String statement(String... parts) {
    return String.join("?", parts);
  }
}
