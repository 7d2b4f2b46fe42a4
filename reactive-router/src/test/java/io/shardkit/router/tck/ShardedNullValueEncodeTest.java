package io.shardkit.router.tck;

import io.vertx.ext.unit.junit.VertxUnitRunner;
import io.vertx.tests.sqlclient.tck.NullValueEncodeTestBase;
import org.junit.runner.RunWith;

/** vertx-sql-client's {@link NullValueEncodeTestBase} against ShardedPool connections. */
@RunWith(VertxUnitRunner.class)
public class ShardedNullValueEncodeTest extends NullValueEncodeTestBase {

  @Override
  protected void initConnector() {
    connector = TckDatabase.connector(vertx);
  }

  @Override
  protected String statement(String... parts) {
    return String.join("?", parts);
  }
}
