package io.shardkit.router.tck;

import io.vertx.ext.unit.TestContext;
import io.vertx.ext.unit.junit.VertxUnitRunner;
import io.vertx.sqlclient.data.Numeric;
import io.vertx.tests.sqlclient.tck.TextDataTypeDecodeTestBase;
import java.sql.JDBCType;
import org.junit.Test;
import org.junit.runner.RunWith;

/**
 * vertx-sql-client's {@link TextDataTypeDecodeTestBase} against ShardedPool connections (MySQL's
 * numerics).
 */
@RunWith(VertxUnitRunner.class)
public class ShardedTextDataTypeDecodeTest extends TextDataTypeDecodeTestBase {

  @Override
  protected void initConnector() {
    connector = TckDatabase.connector(vertx);
  }

  @Override
  protected JDBCType getNumericJDBCType() {
    return JDBCType.DECIMAL;
  }

  @Override
  protected Class<? extends Number> getNumericClass() {
    return Numeric.class;
  }

  @Override
  protected Number getNumericValue(Number value) {
    return Numeric.create(value);
  }

  @Override
  protected Number getNumericValue(String value) {
    return Numeric.parse(value);
  }

  @Override
  @Test
  public void testBoolean(TestContext ctx) {
    TckSkip.because(TckSkip.MYSQL_OVERRIDES);
  }

  @Override
  @Test
  public void testTime(TestContext ctx) {
    TckSkip.because(TckSkip.MYSQL_OVERRIDES);
  }

  @Override
  @Test
  public void testFloat4(TestContext ctx) {
    TckSkip.because(TckSkip.MYSQL_OVERRIDES);
  }
}
