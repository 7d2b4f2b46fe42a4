package io.shardkit.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.shardingsphere.driver.api.ShardingSphereDataSourceFactory;
import org.apache.shardingsphere.infra.config.algorithm.AlgorithmConfiguration;
import org.apache.shardingsphere.infra.config.rule.RuleConfiguration;
import org.apache.shardingsphere.sharding.api.config.ShardingRuleConfiguration;
import org.apache.shardingsphere.sharding.api.config.rule.ShardingTableRuleConfiguration;
import org.apache.shardingsphere.sharding.api.config.strategy.sharding.StandardShardingStrategyConfiguration;
import org.apache.shardingsphere.transaction.config.TransactionRuleConfiguration;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * The peer: ShardingSphere-JDBC 5.3.2 (the newest line whose XA modules are on Maven Central) on
 * the same {@link BenchEnv} shards with the same rules ({@code t_order} by {@code order_id}, {@code
 * account} by {@code id}, built-in {@code MOD} algorithm, 4 data sources), HikariCP pools and MySQL
 * Connector/J 8.4, configured programmatically.
 *
 * <ul>
 *   <li>{@code pointSelect}: the statement of {@link PointSelectBenchmark} (LOCAL transaction
 *       type);
 *   <li>{@code xaTransfer}: the transfer of {@link TransferBenchmark#xaTwoShards}, debit on shard 0
 *       and credit on shard 1 in one XA transaction ({@code TransactionRuleConfiguration("XA",
 *       "Atomikos")}; Atomikos logs to a temporary directory, durably).
 * </ul>
 *
 * Concurrency is JDBC's: {@code inFlight} JMH threads, each borrowing a connection per operation
 * from ShardingSphere's data source (Hikari pools of {@code inFlight} connections per shard). Run
 * with as many threads as in flight: {@code java -jar benchmarks/target/benchmarks.jar
 * ShardingSphereBenchmark -p inFlight=16 -t 16} (the setup refuses a mismatch).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 8)
public class ShardingSphereBenchmark {

  @Param({"1", "16", "64"})
  public int inFlight;

  private BenchEnv env;
  private final List<HikariDataSource> pools = new ArrayList<>();
  private DataSource dataSource;
  private boolean xa;
  private long xaCommitsBefore;

  @Setup(Level.Trial)
  public void setUp(BenchmarkParams params) throws Exception {
    if (params.getThreads() != inFlight) {
      throw new IllegalStateException(
          "ShardingSphereBenchmark: run with as many threads as in flight (-t "
              + inFlight
              + "), not "
              + params.getThreads());
    }
    boolean xa = params.getBenchmark().endsWith("xaTransfer");
    // ShardingSphere starts its XA manager (Atomikos) whatever the transaction type: give it a
    // private log directory, no limit on active transactions (default 50) and no banner.
    Path logs = Files.createTempDirectory("shardkit-bench-atomikos");
    System.setProperty("com.atomikos.icatch.log_base_dir", logs.toString());
    System.setProperty("com.atomikos.icatch.output_dir", logs.toString());
    System.setProperty("com.atomikos.icatch.max_actives", "-1");
    System.setProperty("com.atomikos.icatch.registered", "true");
    env = BenchEnv.open();
    dataSource = create(env, inFlight, xa ? "XA" : "LOCAL", pools);
    this.xa = xa;
    xaCommitsBefore = xaCommits();
  }

  /** MariaDB's count of XA commits on shard 0: proves the XA transfer really ran as XA. */
  private long xaCommits() throws SQLException {
    try (Connection connection = pools.get(0).getConnection();
        PreparedStatement statement =
            connection.prepareStatement("SHOW GLOBAL STATUS LIKE 'Com_xa_commit'");
        ResultSet rows = statement.executeQuery()) {
      return rows.next() ? rows.getLong(2) : -1;
    }
  }

  /** ShardingSphere-JDBC over the environment's shards with shardkit's rules, translated. */
  static DataSource create(BenchEnv env, int poolSize, String txType, List<HikariDataSource> pools)
      throws SQLException {
    Map<String, DataSource> sources = new LinkedHashMap<>();
    for (int i = 0; i < BenchEnv.SHARDS; i++) {
      HikariConfig config = new HikariConfig();
      config.setPoolName("ss-ds_" + i);
      config.setJdbcUrl(env.jdbcUrl(i));
      config.setUsername(env.user(i));
      config.setPassword(env.password(i));
      config.setMaximumPoolSize(poolSize);
      config.setMinimumIdle(poolSize);
      HikariDataSource pool = new HikariDataSource(config);
      pools.add(pool);
      sources.put("ds_" + i, pool);
    }
    ShardingRuleConfiguration sharding = new ShardingRuleConfiguration();
    sharding.getTables().add(table("t_order", "order_id"));
    sharding.getTables().add(table("account", "id"));
    Properties mod = new Properties();
    mod.setProperty("sharding-count", String.valueOf(BenchEnv.SHARDS));
    sharding.getShardingAlgorithms().put("mod", new AlgorithmConfiguration("MOD", mod));
    List<RuleConfiguration> rules =
        List.of(sharding, new TransactionRuleConfiguration(txType, "Atomikos", new Properties()));
    return ShardingSphereDataSourceFactory.createDataSource(
        "bench_" + txType.toLowerCase(java.util.Locale.ROOT),
        null,
        sources,
        rules,
        new Properties());
  }

  private static ShardingTableRuleConfiguration table(String table, String column) {
    ShardingTableRuleConfiguration config =
        new ShardingTableRuleConfiguration(table, "ds_${0..3}." + table);
    config.setDatabaseShardingStrategy(new StandardShardingStrategyConfiguration(column, "mod"));
    return config;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (xa) {
      long commits = xaCommits() - xaCommitsBefore;
      System.out.printf("%nXA COMMITs on ds_0's server during the run: %d%n", commits);
      if (commits <= 0) {
        throw new IllegalStateException("ShardingSphere's transfer did not run as XA");
      }
    }
    if (dataSource instanceof AutoCloseable closeable) {
      closeable.close();
    }
    for (HikariDataSource pool : pools) {
      pool.close();
    }
    env.close();
  }

  @Benchmark
  public long pointSelect() throws SQLException {
    long id = ThreadLocalRandom.current().nextLong(BenchEnv.ORDERS);
    return selectOrder(dataSource, id);
  }

  /**
   * For reference, not a contender: the same point select on plain JDBC (the owning shard's Hikari
   * pool, chosen by the caller), to tell JDBC's thread-per-operation model from ShardingSphere's
   * own cost.
   */
  @Benchmark
  public long jdbcDirectPointSelect() throws SQLException {
    long id = ThreadLocalRandom.current().nextLong(BenchEnv.ORDERS);
    return selectOrder(pools.get(BenchEnv.shardOf(id)), id);
  }

  /** The point select on a JDBC data source; the row's values summed so nothing is elided. */
  private static long selectOrder(javax.sql.DataSource source, long id) throws SQLException {
    try (Connection connection = source.getConnection();
        PreparedStatement statement = connection.prepareStatement(PointSelectBenchmark.SQL)) {
      statement.setLong(1, id);
      try (ResultSet rows = statement.executeQuery()) {
        if (!rows.next()) {
          throw new IllegalStateException("order " + id + " not found");
        }
        return rows.getLong(1) + rows.getLong(2) + rows.getInt(3) + rows.getString(4).length();
      }
    }
  }

  @Benchmark
  public void xaTransfer() throws SQLException {
    long from = TransferBenchmark.account(0);
    long to = TransferBenchmark.account(1);
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(false);
      try (PreparedStatement statement = connection.prepareStatement(TransferBenchmark.UPDATE)) {
        statement.setLong(1, -1);
        statement.setLong(2, from);
        statement.executeUpdate();
        statement.setLong(1, 1);
        statement.setLong(2, to);
        statement.executeUpdate();
        connection.commit();
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      }
    }
  }
}
