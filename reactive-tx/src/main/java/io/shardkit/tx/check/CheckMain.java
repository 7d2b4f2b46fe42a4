package io.shardkit.tx.check;

import io.shardkit.context.ConfigurationException;
import io.shardkit.router.ShardedPool;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The consistency check as a command:
 *
 * <pre>
 * reactive-tx/check.sh --config shardkit.json [--out report.json] [--copies | --transactions]
 *     [--settle-ms 120000] [--chunk 1000] [--chunks-per-second 0]
 * </pre>
 *
 * {@code --config} is the pool's JSON configuration ({@code ShardedPool.Builder.config}: rules,
 * data sources and their replicas) with, for the transaction checks, a {@code "transactions"}
 * object ({@code TransactionsOptions.fromJson}). Prints the summary, writes the JSON report to
 * {@code --out}; exit code 0 when consistent, 1 when anything is wrong, 2 when the check could not
 * run (bad arguments or configuration, a data source unreachable).
 */
public final class CheckMain {

  private CheckMain() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** The command without {@code System.exit}: returns its exit code. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    Path config = null;
    Path report = null;
    String only = null;
    Duration settle = null;
    Integer chunk = null;
    Integer rate = null;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--config" -> config = Path.of(value(args, ++i, "--config"));
          case "--out" -> report = Path.of(value(args, ++i, "--out"));
          case "--copies", "--transactions" -> only = args[i];
          case "--settle-ms" ->
              settle = Duration.ofMillis(Long.parseLong(value(args, ++i, "--settle-ms")));
          case "--chunk" -> chunk = Integer.parseInt(value(args, ++i, "--chunk"));
          case "--chunks-per-second" ->
              rate = Integer.parseInt(value(args, ++i, "--chunks-per-second"));
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
      }
      if (config == null) {
        throw new IllegalArgumentException("--config FILE is required");
      }
    } catch (RuntimeException e) {
      err.println("check: " + e.getMessage());
      err.println(
          "usage: check --config FILE [--out FILE] [--copies | --transactions] [--settle-ms N]"
              + " [--chunk N] [--chunks-per-second N]");
      return 2;
    }
    Vertx vertx = Vertx.vertx();
    ShardedPool pool = null;
    try {
      JsonObject json = new JsonObject(Files.readString(config, StandardCharsets.UTF_8));
      JsonObject txJson = (JsonObject) json.remove("transactions");
      TransactionsOptions tx = txJson == null ? null : TransactionsOptions.fromJson(txJson);
      pool = ShardedPool.builder(vertx).config(json).build();
      CheckOptions options = CheckOptions.defaults(tx);
      if (settle != null) {
        options = options.withSettle(settle);
      }
      if (chunk != null) {
        options = options.withChunkSize(chunk);
      }
      if (rate != null) {
        options = options.withMaxChunksPerSecond(rate);
      }
      ConsistencyChecker checker = ConsistencyChecker.create(vertx, pool, options);
      Future<CheckReport> run =
          "--copies".equals(only)
              ? checker.checkCopies()
              : "--transactions".equals(only) ? checker.checkTransactions() : checker.check();
      CheckReport result = run.toCompletionStage().toCompletableFuture().get(24, TimeUnit.HOURS);
      out.print(result.summary());
      if (report != null) {
        Files.writeString(report, result.toJson().encodePrettily() + "\n", StandardCharsets.UTF_8);
        out.println("report: " + report);
      }
      return result.consistent() ? 0 : 1;
    } catch (IOException | RuntimeException | java.util.concurrent.ExecutionException e) {
      Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
      err.println(
          "check: could not run: "
              + (cause instanceof ConfigurationException
                  ? ""
                  : cause.getClass().getSimpleName() + ": ")
              + cause.getMessage());
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 2;
    } catch (java.util.concurrent.TimeoutException e) {
      err.println("check: did not finish within 24 h");
      return 2;
    } finally {
      if (pool != null) {
        pool.close().toCompletionStage().toCompletableFuture().join();
      }
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }
}
