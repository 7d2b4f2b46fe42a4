package io.shardkit.benchmarks;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.router.impl.analyse.MergeSpec;
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
 *   <li>{@code kWayMerge}: ORDER BY merge of 4 units × 250 rows with LIMIT (per 1000 rows);
 *   <li>{@code cycling4097Statements}: an application cycling through 4,097 distinct statements
 *       with the default 4,096-plan cache (an LRU misses every lookup of such a cycle); the hit
 *       rate of each iteration is printed, and {@link #main} measures it without JMH;
 *   <li>{@code cachedInList10k} / {@code cachedInList10kLiterals}: a cached {@code IN} of 10,000
 *       {@code ?} parameters (literals) over 32 units: per execution, every value is routed and
 *       every unit's list is pruned and rendered.
 * </ul>
 *
 * Run: {@code java -jar benchmarks/target/benchmarks.jar RouterBenchmark}; the hit rate alone:
 * {@code java -cp benchmarks/target/benchmarks.jar io.shardkit.benchmarks.RouterBenchmark}.
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
  static final int CYCLE = ShardedPool.Builder.DEFAULT_PLAN_CACHE_SIZE + 1;
  static final int IN_VALUES = 10_000;

  private final AtomicLong unique = new AtomicLong();
  private ShardedPool cyclingPool;
  private SimpleMeterRegistry cyclingMeters;
  private String[] cycle;
  private int next;
  private double lastHits;
  private double lastMisses;
  private String inList;
  private String inListLiterals;
  private Tuple inListParams;
  private List<RowSet<Row>> units;
  private MergeSpec orderSpec;
  private List<RowSet<Row>> stringUnits;
  private MergeSpec stringOrderSpec;
  private Planner planner;
  private io.shardkit.router.impl.schema.SchemaCatalog catalog;
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
    // the schema a pool reads at start (there are no servers here): order_id is a BIGINT, so
    // hash-mod hashes its number and a point select routes to one table
    List<io.shardkit.router.impl.schema.ColumnInfo> columns =
        List.of(
            new io.shardkit.router.impl.schema.ColumnInfo("order_id", "bigint", "bigint(20)", null),
            new io.shardkit.router.impl.schema.ColumnInfo("user_id", "int", "int(11)", null),
            new io.shardkit.router.impl.schema.ColumnInfo(
                "status", "varchar", "varchar(32)", "utf8mb4_general_ci"));
    io.shardkit.router.impl.schema.Schema schema =
        new io.shardkit.router.impl.schema.Schema(
            Map.of("t_order", columns, "t_order_item", columns));
    pool =
        io.shardkit.router.impl.execute.ShardedPoolImpl.create(
            ShardedPool.builder(vertx).rules(rules).dataSources(ds, new PoolOptions()),
            io.shardkit.router.impl.schema.SchemaCatalog.of(rules, schema));
    catalog = io.shardkit.router.impl.schema.SchemaCatalog.of(rules, schema);
    planner = Planner.of(rules, catalog);
    rewriter = Rewriter.of();
    cyclingMeters = new SimpleMeterRegistry();
    cyclingPool =
        io.shardkit.router.impl.execute.ShardedPoolImpl.create(
            ShardedPool.builder(vertx)
                .rules(rules)
                .dataSources(ds, new PoolOptions())
                .meterRegistry(cyclingMeters),
            io.shardkit.router.impl.schema.SchemaCatalog.of(rules, schema));
    cycle = cycle(CYCLE);
    StringBuilder marks = new StringBuilder();
    StringBuilder literals = new StringBuilder();
    List<Object> values = new ArrayList<>(IN_VALUES);
    for (int i = 0; i < IN_VALUES; i++) {
      marks.append(i == 0 ? "?" : ", ?");
      literals.append(i == 0 ? "" : ", ").append(1_000_000L + i * 7L);
      values.add(1_000_000L + i * 7L);
    }
    inList = "SELECT order_id, status FROM t_order WHERE order_id IN (" + marks + ")";
    inListLiterals = "SELECT order_id, status FROM t_order WHERE order_id IN (" + literals + ")";
    inListParams = Tuple.wrap(values);
    pointParams = Tuple.of(7, 1234567L);
    for (String sql : cycle) {
      // the first round parses every text: measured by firstSight, not here (steady state only)
      cyclingPool.dataSourcesFor(sql, pointParams);
    }
    lastHits = counter(cyclingMeters, "hit");
    lastMisses = counter(cyclingMeters, "miss");
    scatterParams = Tuple.of(11L, 12L, 13L, 14L, 10);

    Planner typed =
        Planner.of(rules, io.shardkit.router.impl.schema.SchemaCatalog.of(rules, schema));
    orderSpec =
        ((io.shardkit.router.impl.route.SelectPlan)
                typed.plan("SELECT order_id, status FROM t_order ORDER BY order_id"))
            .merge();
    stringOrderSpec =
        ((io.shardkit.router.impl.route.SelectPlan)
                typed.plan("SELECT order_id, status FROM t_order ORDER BY status"))
            .merge();
    units = new ArrayList<>();
    stringUnits = new ArrayList<>();
    List<String> names = List.of("order_id", "status");
    List<String> weighted = List.of("order_id", "status", "sk_derived_w0", "sk_derived_p1");
    io.vertx.core.buffer.Buffer space = io.vertx.core.buffer.Buffer.buffer(new byte[] {0, 0x20});
    for (int u = 0; u < 4; u++) {
      List<Row> rows = new ArrayList<>();
      List<Row> stringRows = new ArrayList<>();
      for (int i = 0; i < 250; i++) {
        rows.add(new BenchRow(names, new Object[] {(long) (i * 4 + u), "s" + (i % 7)}));
        // sorted by status: 250 distinct texts per unit, interleaved across units
        String status = String.format("status-%05d", i * 4 + u);
        io.vertx.core.buffer.Buffer weight = io.vertx.core.buffer.Buffer.buffer();
        for (char c : status.toUpperCase(java.util.Locale.ROOT).toCharArray()) {
          weight.appendShort((short) c);
        }
        stringRows.add(
            new BenchRow(weighted, new Object[] {(long) (i * 4 + u), status, weight, space}));
      }
      units.add(MergedRowSet.of(rows, names, List.of(), rows.size(), Map.of()));
      stringUnits.add(
          MergedRowSet.of(stringRows, weighted, List.of(), stringRows.size(), Map.of()));
    }
  }

  /** {@code n} distinct point selects (distinct texts, the same shape). */
  static String[] cycle(int n) {
    String[] out = new String[n];
    for (int i = 0; i < n; i++) {
      out[i] = POINT + " AND status <> 'c" + i + "'";
    }
    return out;
  }

  /** Prints the plan-cache hit rate of the iteration that just ended (cycling4097Statements). */
  @TearDown(Level.Iteration)
  public void printHitRate() {
    double hits = counter(cyclingMeters, "hit");
    double misses = counter(cyclingMeters, "miss");
    double dh = hits - lastHits;
    double dm = misses - lastMisses;
    lastHits = hits;
    lastMisses = misses;
    if (dh + dm > 0) {
      System.out.printf(
          "%n  plan cache, %d statements cycling through %d plans: %.2f%% hits (%.0f hits, %.0f"
              + " misses)%n",
          CYCLE, CYCLE - 1, 100 * dh / (dh + dm), dh, dm);
    }
  }

  static double counter(MeterRegistry registry, String result) {
    FunctionCounter c =
        registry.find("shardkit.router.plan.cache").tag("result", result).functionCounter();
    return c == null ? 0 : c.count();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    cyclingPool.close();
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
  public Set<String> cycling4097Statements() {
    String sql = cycle[next];
    next = next + 1 == cycle.length ? 0 : next + 1;
    return cyclingPool.dataSourcesFor(sql, pointParams);
  }

  @Benchmark
  public Set<String> cachedInList10k() {
    return pool.dataSourcesFor(inList, inListParams);
  }

  @Benchmark
  public Set<String> cachedInList10kLiterals() {
    return pool.dataSourcesFor(inListLiterals, Tuple.tuple());
  }

  @Benchmark
  public Rewriter.Routed firstSight() {
    String sql = POINT + " AND status <> 'n" + unique.incrementAndGet() + "'";
    io.shardkit.router.impl.route.Plan plan = Planner.of(rules, catalog).plan(sql);
    return Rewriter.of()
        .rewrite(
            plan,
            io.shardkit.router.impl.route.Router.of(rules, catalog)
                .routing(plan, pointParams, io.shardkit.router.impl.route.RoutingHint.NONE),
            pointParams);
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

  /**
   * The same merge ordered by a string column: each row carries its collation sort key
   * (WEIGHT_STRING) and the pad weight, which the merge compares instead of the number.
   */
  @Benchmark
  public int kWayMergeStrings() {
    return ResultMerger.merge(stringUnits, stringOrderSpec, 0, 1000, null).size();
  }

  /**
   * The plan-cache hit rate of an application cycling through {@link #CYCLE} distinct statements
   * with a cache one plan smaller, through the pool, next to what a least-recently-used map of the
   * same bound (the former cache) gets on the same sequence. No database, no JMH.
   */
  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    RouterBenchmark b = new RouterBenchmark();
    b.setUp();
    try {
      String[] statements = cycle(CYCLE);
      // setUp() ran the first round, in which every text is new
      double hits0 = counter(b.cyclingMeters, "hit");
      double misses0 = counter(b.cyclingMeters, "miss");
      long start = System.nanoTime();
      for (int r = 0; r < rounds; r++) {
        for (String sql : statements) {
          b.cyclingPool.dataSourcesFor(sql, b.pointParams);
        }
      }
      long nanos = System.nanoTime() - start;
      double hits = counter(b.cyclingMeters, "hit") - hits0;
      double misses = counter(b.cyclingMeters, "miss") - misses0;
      Map<String, Boolean> lru =
          new java.util.LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
              return size() > CYCLE - 1;
            }
          };
      long lruHits = 0;
      for (int r = 0; r <= rounds; r++) {
        for (String sql : statements) {
          if (lru.get(sql) != null) {
            lruHits += r == 0 ? 0 : 1;
          } else {
            lru.put(sql, Boolean.TRUE);
          }
        }
      }
      long lookups = (long) rounds * CYCLE;
      System.out.printf(
          "%d statements cycling through a %d-plan cache, %d rounds after the first:%n"
              + "  Caffeine (W-TinyLFU): %.2f%% hits (%.0f hits, %.0f misses), %.2f µs per"
              + " statement%n"
              + "  LRU (former cache):   %.2f%% hits%n",
          CYCLE,
          CYCLE - 1,
          rounds,
          100 * hits / (hits + misses),
          hits,
          misses,
          nanos / 1000.0 / lookups,
          100.0 * lruHits / lookups);
    } finally {
      b.tearDown();
    }
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
