package io.shardkit.benchmarks;

import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.router.impl.merge.MergeSpec;
import io.shardkit.router.impl.merge.MergedRowSet;
import io.shardkit.router.impl.merge.ResultMerger;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.route.Planner;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The router's CPU cost before and after I/O, no database involved (budgets in DESIGN.md):
 *
 * <ul>
 *   <li>{@code cachedPointSelect} / {@code cachedScatterInList}: plan-cache lookup by SQL text +
 *       route + rewrite of a statement already seen (budget ≤ 2 µs), through the public {@code
 *       ShardedPool.dataSourcesFor}, which runs exactly the pre-I/O path of an execution;
 *   <li>{@code firstSight}: parse + analyse + route + rewrite of a statement never seen (≤ 60 µs);
 *   <li>{@code parseOnly}: JSqlParser's share of {@code firstSight} (it parses twice: once, and
 *       once more to check that the rewritten SQL round-trips);
 *   <li>{@code kWayMerge}: ORDER BY merge of 4 units × 250 rows with LIMIT (per 1000 rows).
 * </ul>
 *
 * Run: {@code java -jar benchmarks/target/benchmarks.jar RouterBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RouterBenchmark {

  static final String POINT =
      "SELECT order_id, status FROM t_order WHERE user_id = ? AND order_id = ?";
  static final String SCATTER =
      "SELECT * FROM t_order WHERE order_id IN (?, ?, ?, ?) ORDER BY order_id LIMIT ?";

  private Vertx vertx;
  private ShardedPool pool;
  private ShardingRules rules;
  private Tuple pointParams;
  private Tuple scatterParams;
  private final AtomicLong unique = new AtomicLong();
  private List<RowSet<Row>> units;
  private MergeSpec orderSpec;
  private Planner planner;
  private Rewriter rewriter;

  @Setup(Level.Trial)
  public void setUp() {
    vertx = Vertx.vertx();
    rules =
        ShardingRules.builder()
            .table(
                "t_order",
                t ->
                    t.dataNodes("ds_${0..3}.t_order_${0..7}")
                        .databaseStrategy("user_id", "mod")
                        .tableStrategy("order_id", "hash-mod"))
            .table(
                "t_order_item",
                t ->
                    t.dataNodes("ds_${0..3}.t_order_item_${0..7}")
                        .databaseStrategy("user_id", "mod")
                        .tableStrategy("order_id", "hash-mod"))
            .bindingGroup("t_order", "t_order_item")
            .build();
    Map<String, MySQLConnectOptions> ds = new HashMap<>();
    for (String name : rules.dataSourceNames()) {
      // pools connect lazily: nothing listens there and nothing is sent
      ds.put(name, new MySQLConnectOptions().setHost("127.0.0.1").setPort(1));
    }
    pool = ShardedPool.builder(vertx).rules(rules).dataSources(ds, new PoolOptions()).build();
    planner = Planner.of(rules);
    rewriter = Rewriter.of(rules);
    pointParams = Tuple.of(7, 1234567L);
    scatterParams = Tuple.of(11L, 12L, 13L, 14L, 10);
    orderSpec =
        Planner.of(rules).plan("SELECT order_id, status FROM t_order ORDER BY order_id").merge();
    units = new ArrayList<>();
    List<String> names = List.of("order_id", "status");
    for (int u = 0; u < 4; u++) {
      List<Row> rows = new ArrayList<>();
      for (int i = 0; i < 250; i++) {
        rows.add(new BenchRow(names, new Object[] {(long) (i * 4 + u), "s" + (i % 7)}));
      }
      units.add(MergedRowSet.of(rows, names, List.of(), rows.size(), Map.of()));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    pool.close();
    vertx.close();
  }

  @Benchmark
  public Set<String> cachedPointSelect() {
    return pool.dataSourcesFor(POINT, pointParams);
  }

  @Benchmark
  public Set<String> cachedScatterInList() {
    return pool.dataSourcesFor(SCATTER, scatterParams);
  }

  @Benchmark
  public Rewriter.Routed firstSight() {
    String sql = POINT + " AND status <> 'n" + unique.incrementAndGet() + "'";
    return Rewriter.of(rules)
        .rewrite(
            Planner.of(rules).plan(sql),
            pointParams,
            io.shardkit.router.impl.route.RoutingHint.NONE);
  }

  /** JSqlParser alone on the same kind of new text, for comparison with {@code firstSight}. */
  @Benchmark
  public Object parseOnly() throws Exception {
    String sql = POINT + " AND status <> 'n" + unique.incrementAndGet() + "'";
    return net.sf.jsqlparser.parser.CCJSqlParserUtil.newParser(sql)
        .withBackslashEscapeCharacter(true)
        .Statement();
  }

  @Benchmark
  public int kWayMerge() {
    return ResultMerger.merge(units, orderSpec, 0, 1000, null).size();
  }

  /** A minimal in-memory row for the merge benchmark. */
  private static final class BenchRow implements Row {
    private final List<String> names;
    private final Object[] values;

    BenchRow(List<String> names, Object[] values) {
      this.names = names;
      this.values = values;
    }

    @Override
    public String getColumnName(int pos) {
      return names.get(pos);
    }

    @Override
    public int getColumnIndex(String name) {
      return names.indexOf(name);
    }

    @Override
    public Object getValue(int pos) {
      return values[pos];
    }

    @Override
    public Tuple addValue(Object value) {
      throw new UnsupportedOperationException();
    }

    @Override
    public int size() {
      return values.length;
    }

    @Override
    public void clear() {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<Class<?>> types() {
      return List.of();
    }
  }
}
