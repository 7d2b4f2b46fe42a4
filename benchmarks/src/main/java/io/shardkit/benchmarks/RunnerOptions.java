package io.shardkit.benchmarks;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The runner's command line.
 *
 * <pre>
 *   --quick               a few minutes: 1 warmup x 2 s, 2 measurements x 2 s per benchmark
 *   --full                the default: 2 warmups x 4 s (4 for JDBC peers), 3 measurements x 8 s (about 25 min)
 *   --out DIR             where results go (default benchmarks/results)
 *   --work DIR            env file and JMH log (default benchmarks/target/bench-run)
 *   --only REGEX          run only the steps whose "Class.method" matches (find())
 *   --concurrency 1,16,64 in-flight levels for the database benchmarks
 *   --machine NAME        machine name in file names and the summary (default: host name)
 *   --from FILE           run nothing: summary and charts from a raw result file or JMH JSON
 *   --help
 * </pre>
 */
record RunnerOptions(
    boolean quick,
    Path out,
    Path work,
    Pattern only,
    List<Integer> concurrency,
    String machine,
    Path from,
    boolean help) {

  static final List<Integer> DEFAULT_CONCURRENCY = List.of(1, 16, 64);

  static final String USAGE =
      """
      usage: benchmarks/run.sh [--quick | --full] [options]
        --quick               a few minutes: 1 warmup x 2 s, 2 measurements x 2 s per benchmark
        --full                (default) 2 warmups x 4 s (4 x 4 s for JDBC peers), 3 measurements x 8 s: ~25 min
        --out DIR             results directory (default benchmarks/results)
        --work DIR            env file and full JMH log (default benchmarks/target/bench-run)
        --only REGEX          only the benchmarks whose Class.method matches, e.g. 'Transfer|Sharding'
        --concurrency LIST    in-flight levels, default 1,16,64
        --machine NAME        machine name for the result file (default: host name)
        --from FILE           run nothing: write summary.json and the charts into --out from a
                              <date>-<machine>.json of an earlier run or a JMH '-rf json' file
      Shards: testkit (SHARDKIT_TESTKIT_ENDPOINTS=user:pass@host:port,... for your own servers,
      otherwise Testcontainers or embedded MariaDB).
      """;

  static RunnerOptions parse(String... args) {
    boolean quick = false;
    boolean modeGiven = false;
    Path out = Path.of("benchmarks", "results");
    Path work = Path.of("benchmarks", "target", "bench-run");
    Pattern only = null;
    List<Integer> concurrency = DEFAULT_CONCURRENCY;
    String machine = null;
    Path from = null;
    boolean help = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "--quick", "--full" -> {
          boolean q = arg.equals("--quick");
          if (modeGiven && q != quick) {
            throw new IllegalArgumentException("--quick and --full exclude each other");
          }
          quick = q;
          modeGiven = true;
        }
        case "--out" -> out = Path.of(value(args, ++i, arg));
        case "--work" -> work = Path.of(value(args, ++i, arg));
        case "--only" -> only = Pattern.compile(value(args, ++i, arg));
        case "--concurrency" -> concurrency = concurrencyList(value(args, ++i, arg));
        case "--machine" -> machine = sanitize(value(args, ++i, arg));
        case "--from" -> from = Path.of(value(args, ++i, arg));
        case "--help", "-h" -> help = true;
        default -> throw new IllegalArgumentException("unknown argument: " + arg);
      }
    }
    return new RunnerOptions(quick, out, work, only, concurrency, machine, from, help);
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length || args[i].startsWith("--")) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  private static List<Integer> concurrencyList(String text) {
    List<Integer> out = new ArrayList<>();
    for (String part : text.split(",")) {
      int n;
      try {
        n = Integer.parseInt(part.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--concurrency: not a number: " + part, e);
      }
      if (n < 1 || n > 1024) {
        throw new IllegalArgumentException("--concurrency: out of range 1..1024: " + n);
      }
      if (!out.contains(n)) {
        out.add(n);
      }
    }
    out.sort(null);
    return List.copyOf(out);
  }

  static String sanitize(String name) {
    String s = name.trim().replaceAll("[^A-Za-z0-9._-]", "-");
    return s.isEmpty() ? "unknown" : s;
  }

  /** "quick" or "full". */
  String mode() {
    return quick ? "quick" : "full";
  }

  /** Warmup and measurement for a kind of benchmark in this mode. */
  Timing timing(boolean cpuOnly) {
    return timing(cpuOnly, false);
  }

  /**
   * Warmup and measurement for a step: a blocking JDBC peer ({@code threads}: ShardingSphere-JDBC,
   * Atomikos, the MySQL JDBC driver) warms up for twice as long as the database benchmarks on
   * Vert.x, since its deeper stack was still getting faster after 2 × 4 s (iterations of its XA
   * transfer rising from 727 to 2,801/s through warm-up and measurement, 2026-12-07).
   */
  Timing timing(boolean cpuOnly, boolean threads) {
    if (quick) {
      return cpuOnly ? new Timing(1, 1, 2, 1) : new Timing(1, 2, 2, 2);
    }
    if (cpuOnly) {
      return new Timing(3, 2, 5, 2);
    }
    return threads ? new Timing(4, 4, 3, 8) : new Timing(2, 4, 3, 8);
  }

  /** Iterations and seconds per iteration. */
  record Timing(int warmups, int warmupSeconds, int measurements, int measurementSeconds) {
    int seconds() {
      return warmups * warmupSeconds + measurements * measurementSeconds;
    }
  }
}
