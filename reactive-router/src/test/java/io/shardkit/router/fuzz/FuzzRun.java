package io.shardkit.router.fuzz;

import io.shardkit.testkit.Shard;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * One fuzz run: worlds (schema + data) built one after another from the seed, each checked with
 * generated statements until the count is reached. The first mismatch of each class is shrunk into
 * a {@link Finding}. Writes {@code summary-<seed>.json} and {@code findings-<seed>.md} to the
 * output folder.
 */
final class FuzzRun {

  private final FuzzConfig config;
  private final List<Shard> shards;
  private final Vertx vertx;
  private final PrintStream log;
  private final FuzzStats stats = new FuzzStats();

  FuzzRun(FuzzConfig config, List<Shard> shards, Vertx vertx, PrintStream log) {
    this.config = config;
    this.shards = shards;
    this.vertx = vertx;
    this.log = log;
  }

  FuzzStats run(Path output) {
    long start = System.currentTimeMillis();
    Random random = new Random(config.seed());
    while (stats.statements() < config.statements()) {
      FuzzSchema schema = FuzzSchema.generate(config, random);
      try (FuzzWorld world =
          FuzzWorld.create(schema, FuzzData.generate(schema, config, random), shards, vertx)) {
        runWorld(world, random, start);
      }
    }
    long millis = System.currentTimeMillis() - start;
    write(output, millis);
    return stats;
  }

  private void runWorld(FuzzWorld world, Random random, long start) {
    CollationKeys collations = new CollationKeys(world.reference());
    DifferentialCheck check = new DifferentialCheck(world, collations);
    Literals literals = new Literals(random, config.generation());
    SelectGenerator selects = new SelectGenerator(world.schema(), literals);
    DmlGenerator writes = new DmlGenerator(world.schema(), literals);
    int end = Math.min(config.statements(), stats.statements() + config.statementsPerWorld());
    while (stats.statements() < end) {
      boolean prepared = random.nextBoolean();
      FuzzStatement st =
          random.nextInt(100) < config.dmlPercent()
              ? FuzzStatement.write(writes.next(), prepared)
              : FuzzStatement.query(selects.next(), prepared);
      if (prepared && random.nextInt(100) < 2) {
        st = st.withParamDelta(random.nextBoolean() ? 1 : -1);
      }
      int index = stats.statements();
      Verdict verdict = check.check(st);
      stats.record(st, verdict);
      if (verdict.isMismatch()) {
        if (Boolean.getBoolean("fuzz.verbose")) {
          log.println("mismatch #" + index + " " + verdict.category() + ": " + st.describe());
          log.println("    " + verdict.detail().replace("\n", "\n    "));
        }
        consider(world, check, st, verdict, index);
      }
      if ((index + 1) % 1000 == 0) {
        log.printf(
            "fuzz: %d/%d statements, %d refused, %d mismatches, %.0f s%n",
            index + 1,
            config.statements(),
            stats.refusedCount(),
            stats.mismatchCount(),
            (System.currentTimeMillis() - start) / 1000.0);
      }
    }
  }

  /** Shrinks the first mismatch of each class (up to a budget) into a finding. */
  private void consider(
      FuzzWorld world, DifferentialCheck check, FuzzStatement st, Verdict verdict, int index) {
    if (stats.findings().size() >= config.findingsToShrink()
        || stats.findings().stream()
                .filter(f -> f.verdict().category().equals(verdict.category()))
                .count()
            >= 3) {
      return;
    }
    Shrinker.Shrunk shrunk = new Shrinker(world, check).shrink(st, verdict);
    String signature = Finding.signature(shrunk.verdict(), shrunk.statement());
    if (stats.known(signature)) {
      return;
    }
    Finding finding =
        new Finding(
            signature,
            config.seed(),
            index,
            st.describe(),
            shrunk.statement().describe(),
            shrunk.verdict(),
            shrunk.statement().tables(),
            shrunk.rows(),
            world.schema().rules());
    stats.add(finding);
    log.println("MISMATCH (seed " + config.seed() + ", statement #" + index + "): " + signature);
    log.println("  minimal: " + finding.minimal());
    log.println("  " + shrunk.verdict().detail().replace("\n", "\n  "));
  }

  private void write(Path output, long millis) {
    try {
      Files.createDirectories(output);
      Files.writeString(
          output.resolve("summary-" + config.seed() + ".json"),
          stats.toJson(config.seed(), millis).encodePrettily(),
          StandardCharsets.UTF_8);
      StringBuilder md = new StringBuilder("# Fuzz findings, seed " + config.seed() + "\n\n");
      md.append("```\n").append(stats.text(config.seed(), millis)).append("```\n\n");
      stats.findings().forEach(f -> md.append(f.markdown()).append("\n"));
      Files.writeString(
          output.resolve("findings-" + config.seed() + ".md"), md, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    log.print(stats.text(config.seed(), millis));
  }
}
