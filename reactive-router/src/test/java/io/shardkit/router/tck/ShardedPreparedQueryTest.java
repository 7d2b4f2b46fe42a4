package io.shardkit.router.tck;

import io.vertx.ext.unit.TestContext;
import io.vertx.ext.unit.junit.VertxUnitRunner;
import io.vertx.tests.sqlclient.tck.PreparedQueryTestBase;
import org.junit.Test;
import org.junit.runner.RunWith;

/** vertx-sql-client's {@link PreparedQueryTestBase} against ShardedPool connections. */
@RunWith(VertxUnitRunner.class)
public class ShardedPreparedQueryTest extends PreparedQueryTestBase {

  @Override
  protected void initConnector() {
    connector = TckDatabase.connector(vertx);
  }

  @Override
  protected String statement(String... parts) {
    return String.join("?", parts);
  }

  @Override
  @Test
  public void testQueryCursor(TestContext ctx) {
    TckSkip.because(
        "cursors and streams on a routed connection are refused by name (ShardedPool.stream merges shard cursors)");
  }

  @Override
  @Test
  public void testQueryCloseCursor(TestContext ctx) {
    TckSkip.because(
        "cursors and streams on a routed connection are refused by name (ShardedPool.stream merges shard cursors)");
  }

  @Override
  @Test
  public void testQueryCloseCursorTwice(TestContext ctx) {
    TckSkip.because(
        "cursors and streams on a routed connection are refused by name (ShardedPool.stream merges shard cursors)");
  }

  @Override
  @Test
  public void testQueryStreamCloseCursor(TestContext ctx) {
    TckSkip.because(
        "cursors and streams on a routed connection are refused by name (ShardedPool.stream merges shard cursors)");
  }

  @Override
  @Test
  public void testStreamQuery(TestContext ctx) {
    TckSkip.because(
        "cursors and streams on a routed connection are refused by name (ShardedPool.stream merges shard cursors)");
  }

  @Override
  @Test
  public void testStreamQueryPauseInBatch(TestContext ctx) {
    TckSkip.because(
        "cursors and streams on a routed connection are refused by name (ShardedPool.stream merges shard cursors)");
  }

  @Override
  @Test
  public void testStreamQueryPauseInBatchFromAnotherThread(TestContext ctx) {
    TckSkip.because(
        "cursors and streams on a routed connection are refused by name (ShardedPool.stream merges shard cursors)");
  }

  @Override
  @Test
  public void testStreamQueryPauseResume(TestContext ctx) {
    TckSkip.because(
        "cursors and streams on a routed connection are refused by name (ShardedPool.stream merges shard cursors)");
  }

  @Override
  @Test
  public void testPrepareError(TestContext ctx) {
    TckSkip.because(
        "prepare() plans the statement without I/O; an unknown table is reported by the first execution");
  }

  @Override
  @Test
  public void testPreparedQueryParamCoercionTypeError(TestContext ctx) {
    TckSkip.because(
        "MySQL converts parameter types on the server; vertx-mysql-client's own TCK subclass overrides this test too");
  }
}
