package io.shardkit.router.fuzz;

import io.shardkit.testkit.TestShards;
import io.vertx.core.Vertx;
import java.nio.file.Path;

/**
 * The long run from the command line ({@code reactive-router/fuzz.sh}): {@code --seed S --count N
 * [--out DIR] [--shrink FINDINGS] [--gen 2|3|4]}. {@code --gen 2} (3, 4) adds the second (third,
 * fourth) generation's tables and value forms ({@link FuzzConfig#generation}). Prints the counts,
 * writes the JSON summary and the findings to {@code DIR} (default {@code target/fuzz}) and exits
 * with 1 when any statement mismatched.
 */
public final class FuzzMain {

  private FuzzMain() {}

  public static void main(String[] args) {
    long seed = FuzzTest.SEED;
    int count = 50_000;
    Path out = FuzzTest.OUTPUT;
    int shrink = 25;
    int generation = 1;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--seed" -> seed = Long.parseLong(args[i + 1]);
        case "--count" -> count = Integer.parseInt(args[i + 1]);
        case "--out" -> out = Path.of(args[i + 1]);
        case "--shrink" -> shrink = Integer.parseInt(args[i + 1]);
        case "--gen" -> generation = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    FuzzConfig config =
        FuzzConfig.defaults(seed, count).withFindingsToShrink(shrink).withGeneration(generation);
    Vertx vertx = Vertx.vertx();
    int mismatches;
    try {
      var shards = TestShards.get(config.servers()).shards().subList(0, config.servers());
      mismatches = new FuzzRun(config, shards, vertx, System.out).run(out).mismatchCount();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
    System.exit(mismatches == 0 ? 0 : 1);
  }
}
