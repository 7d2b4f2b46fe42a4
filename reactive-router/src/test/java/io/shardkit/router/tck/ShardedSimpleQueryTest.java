package io.shardkit.router.tck;

import io.vertx.ext.unit.junit.VertxUnitRunner;
import io.vertx.tests.sqlclient.tck.SimpleQueryTestBase;
import org.junit.runner.RunWith;

/** vertx-sql-client's {@link SimpleQueryTestBase} against ShardedPool connections. */
@RunWith(VertxUnitRunner.class)
public class ShardedSimpleQueryTest extends SimpleQueryTestBase {

  @Override
  protected void initConnector() {
    connector = TckDatabase.connector(vertx);
  }
}
