package io.shardkit.benchmarks;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * The one-command benchmark run: starts the shards once (testkit: configured endpoints, else
 * Testcontainers, else embedded MariaDB; and a testkit PostgreSQL when the plan has {@link
 * PgTransferBenchmark}), loads the data ({@link BenchEnv}), runs the suite ({@link Plan}) through
 * the JMH Runner API one benchmark and concurrency at a time (each in its own fork, which reads the
 * shards' addresses from a file named by {@code -Dshardkit.bench.env}), prints progress with an
 * ETA, and writes {@code <out>/<date>-<machine>.json} (every measurement and every ratio at every
 * concurrency), {@code <out>/summary.json} (the named figures) and one SVG chart per group.
 *
 * <p>Start it with {@code benchmarks/run.sh [--quick|--full]}; {@link RunnerOptions} lists the
 * options.
 */
public final class BenchmarkRunner {

  private final RunnerOptions options;
  private final PrintStream out;

  BenchmarkRunner(RunnerOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  public static void main(String[] args) throws Exception {
    RunnerOptions options;
    try {
      options = RunnerOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.print(RunnerOptions.USAGE);
      System.exit(2);
      return;
    }
    if (options.help()) {
      System.out.print(RunnerOptions.USAGE);
      return;
    }
    if (options.from() != null) {
      new BenchmarkRunner(options, System.out).rewrite(options.from());
      return;
    }
    int failures = new BenchmarkRunner(options, System.out).run();
    System.exit(failures == 0 ? 0 : 1);
  }

  /** Runs the suite; returns the number of benchmarks that failed. */
  int run() throws Exception {
    List<Plan.Step> steps = Plan.steps(options);
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("--only matches no benchmark");
    }
    long begin = System.nanoTime();
    String machine = options.machine() != null ? options.machine() : hostName();
    Files.createDirectories(options.out());
    Files.createDirectories(options.work());
    Path envFile = options.work().resolve("env.json").toAbsolutePath();
    Path log = options.work().resolve("jmh.log");
    out.printf(
        "shardkit benchmarks, %s mode: %d runs, about %s of measurement plus JVM starts%n",
        options.mode(), steps.size(), minutes(Plan.plannedSeconds(steps, options)));
    out.printf("  full JMH output: %s%n", log);
    List<Measurement> measurements = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    boolean needsDatabase = steps.stream().anyMatch(s -> !s.cpuOnly());
    try (PrintStream jmhLog =
            new PrintStream(new FileOutputStream(log.toFile()), true, StandardCharsets.UTF_8);
        BenchEnv env = needsDatabase ? startDatabases(Plan.needsPostgres(steps)) : null) {
      if (env != null) {
        env.write(envFile);
      }
      double overhead = 5; // seconds per fork beyond warmup + measurement; learnt as we go
      int done = 0;
      for (Plan.Step step : steps) {
        long stepBegin = System.nanoTime();
        int remaining = Plan.plannedSeconds(steps.subList(done, steps.size()), options);
        out.printf(
            "[%2d/%d] %-55s elapsed %s, ETA %s%n",
            done + 1,
            steps.size(),
            step.label(),
            minutes(seconds(System.nanoTime() - begin)),
            minutes((int) (remaining + overhead * (steps.size() - done))));
        try {
          Measurement m = runStep(step, envFile, jmhLog);
          measurements.add(m);
          out.printf(
              "        %,.1f %s%s%n",
              m.score(),
              m.unit(),
              Double.isNaN(m.error()) ? "" : String.format(Locale.ROOT, " ± %,.1f", m.error()));
        } catch (RunnerException | RuntimeException e) {
          failures.add(step.label() + ": " + e);
          out.printf("        FAILED: %s (details in %s)%n", e, log);
        }
        done++;
        double took = seconds(System.nanoTime() - stepBegin);
        double extra = Math.max(0, took - options.timing(step.cpuOnly(), step.threads()).seconds());
        overhead = done == 1 ? extra : (overhead * (done - 1) + extra) / done;
      }
    }
    Duration total = Duration.ofNanos(System.nanoTime() - begin);
    write(measurements, failures, machine, total);
    out.printf("done in %s, %d failed%n", minutes((int) total.toSeconds()), failures.size());
    return failures.size();
  }

  /**
   * Writes summary.json and the charts into the output directory from an earlier run's raw file
   * ({@code <date>-<machine>.json}) or from JMH's own JSON ({@code -rf json}); runs nothing.
   */
  void rewrite(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8).trim();
    List<Measurement> measurements = new ArrayList<>();
    JsonObject context = new JsonObject();
    if (text.startsWith("[")) {
      measurements.addAll(Measurement.fromJmhJson(text));
      context
          .put("machine", options.machine() != null ? options.machine() : hostName())
          .put("date", LocalDate.now(ZoneOffset.UTC).toString())
          .put("jvm", jvm())
          .put("cores", Runtime.getRuntime().availableProcessors())
          .put("mode", "jmh");
    } else {
      JsonObject raw = new JsonObject(text);
      for (Object o : raw.getJsonArray("measurements")) {
        measurements.add(Measurement.fromJson((JsonObject) o));
      }
      for (String key : List.of("machine", "date", "time", "jvm", "cores", "mode")) {
        if (raw.containsKey(key)) {
          context.put(key, raw.getValue(key));
        }
      }
    }
    Files.createDirectories(options.out());
    JsonObject summary =
        context
            .copy()
            .put("ratio_concurrency", Summary.RATIO_CONCURRENCY)
            .mergeIn(Summary.figures(measurements));
    Path summaryFile = options.out().resolve("summary.json");
    Files.writeString(summaryFile, summary.encodePrettily() + "\n", StandardCharsets.UTF_8);
    out.printf("wrote %s%n", summaryFile);
    for (Path chart : writeCharts(measurements, options.out(), subtitle(context))) {
      out.printf("wrote %s%n", chart);
    }
  }

  static String subtitle(JsonObject context) {
    return String.format(
        Locale.ROOT,
        "%s, %s, %s cores, %s mode; Vert.x: N in flight on one event loop, JDBC: N threads",
        context.getValue("machine"),
        context.getValue("date"),
        context.getValue("cores"),
        context.getValue("mode"));
  }

  private BenchEnv startDatabases(boolean postgres) {
    out.println(
        "starting shards"
            + (postgres ? " and PostgreSQL" : "")
            + " and loading data (testkit) ...");
    long t = System.nanoTime();
    BenchEnv env = BenchEnv.create(postgres);
    out.printf("  ready in %s%n", minutes(seconds(System.nanoTime() - t)));
    return env;
  }

  private Measurement runStep(Plan.Step step, Path envFile, PrintStream jmhLog)
      throws RunnerException {
    RunnerOptions.Timing timing = options.timing(step.cpuOnly(), step.threads());
    ChainedOptionsBuilder builder =
        new OptionsBuilder()
            .include("^" + Pattern.quote(step.className() + "." + step.method()) + "$")
            .forks(1)
            .warmupIterations(timing.warmups())
            .warmupTime(TimeValue.seconds(timing.warmupSeconds()))
            .measurementIterations(timing.measurements())
            .measurementTime(TimeValue.seconds(timing.measurementSeconds()))
            .shouldFailOnError(true)
            .jvmArgsAppend(
                "-Xmx1g",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-D" + BenchEnv.ENV_PROPERTY + "=" + envFile);
    if (!step.cpuOnly()) {
      builder.param("inFlight", String.valueOf(step.concurrency()));
      builder.threads(step.threads() ? step.concurrency() : 1);
    }
    jmhLog.printf("%n==== %s ====%n", step.label());
    Runner runner =
        new Runner(
            builder.build(), OutputFormatFactory.createFormatInstance(jmhLog, VerboseMode.NORMAL));
    List<RunResult> results = new ArrayList<>(runner.run());
    if (results.size() != 1) {
      throw new IllegalStateException("expected one result, got " + results.size());
    }
    return Measurement.of(results.get(0));
  }

  private void write(
      List<Measurement> measurements, List<String> failures, String machine, Duration total)
      throws IOException {
    String date = LocalDate.now(ZoneOffset.UTC).toString();
    JsonObject context =
        new JsonObject()
            .put("machine", machine)
            .put("date", date)
            .put("time", OffsetDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_INSTANT))
            .put("jvm", jvm())
            .put("cores", Runtime.getRuntime().availableProcessors())
            .put("mode", options.mode());
    JsonObject summary = context.copy();
    summary.put("ratio_concurrency", Summary.RATIO_CONCURRENCY);
    summary.mergeIn(Summary.figures(measurements));
    JsonArray raw = new JsonArray();
    measurements.forEach(m -> raw.add(m.toJson()));
    RunnerOptions.Timing db = options.timing(false);
    RunnerOptions.Timing cpu = options.timing(true);
    RunnerOptions.Timing jdbc = options.timing(false, true);
    JsonObject full =
        context
            .copy()
            .put("duration_s", total.toSeconds())
            .put(
                "settings",
                new JsonObject()
                    .put("forks", 1)
                    .put("database", timingJson(db))
                    .put("router", timingJson(cpu))
                    .put("jdbc_peer", timingJson(jdbc))
                    .put("concurrency", new JsonArray(new ArrayList<>(options.concurrency()))))
            .put("summary", Summary.figures(measurements))
            .put("ratios_by_concurrency", Summary.ratiosByConcurrency(measurements))
            .put("measurements", raw)
            .put("failures", new JsonArray(new ArrayList<>(failures)));
    Path rawFile = options.out().resolve(date + "-" + machine + ".json");
    Files.writeString(rawFile, full.encodePrettily() + "\n", StandardCharsets.UTF_8);
    Path summaryFile = options.out().resolve("summary.json");
    Files.writeString(summaryFile, summary.encodePrettily() + "\n", StandardCharsets.UTF_8);
    out.printf("wrote %s%nwrote %s%n", rawFile, summaryFile);
    for (Path chart : writeCharts(measurements, options.out(), subtitle(context))) {
      out.printf("wrote %s%n", chart);
    }
    out.println(summary.encodePrettily());
  }

  /** One SVG per {@link Plan.Group} that has measurements. */
  static List<Path> writeCharts(List<Measurement> measurements, Path dir, String subtitle)
      throws IOException {
    List<Path> written = new ArrayList<>();
    for (Plan.Group group : Plan.GROUPS) {
      List<SvgChart.Series> series = new ArrayList<>();
      for (int i = 0; i < group.benchmarks().size(); i++) {
        Map<Integer, Double> points = new TreeMap<>();
        for (Measurement m : measurements) {
          if (m.benchmark().equals(group.benchmarks().get(i))) {
            points.put(m.concurrency(), m.score());
          }
        }
        if (!points.isEmpty()) {
          series.add(new SvgChart.Series(group.labels().get(i), points));
        }
      }
      if (series.isEmpty()) {
        continue;
      }
      Path file = dir.resolve(group.file());
      Files.writeString(
          file,
          SvgChart.render(group.title(), subtitle, "operations per second", series),
          StandardCharsets.UTF_8);
      written.add(file);
    }
    return written;
  }

  private static JsonObject timingJson(RunnerOptions.Timing t) {
    return new JsonObject()
        .put("warmup_iterations", t.warmups())
        .put("warmup_s", t.warmupSeconds())
        .put("measurement_iterations", t.measurements())
        .put("measurement_s", t.measurementSeconds());
  }

  static String jvm() {
    return System.getProperty("java.vm.name")
        + " "
        + System.getProperty("java.runtime.version", System.getProperty("java.version"))
        + " ("
        + System.getProperty("java.vm.vendor")
        + ")";
  }

  private static String hostName() {
    String name = System.getenv("HOSTNAME");
    if (name == null || name.isBlank()) {
      try {
        name = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        name = "unknown";
      }
    }
    return RunnerOptions.sanitize(name);
  }

  private static int seconds(long nanos) {
    return (int) Math.round(nanos / 1e9);
  }

  static String minutes(int seconds) {
    return seconds >= 60
        ? String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60)
        : seconds + "s";
  }
}
