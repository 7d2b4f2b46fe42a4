package io.shardkit.router.impl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The stages of {@code io.shardkit.router.impl} depend one way: parse → analyse → route → rewrite →
 * execute → merge. A package may use the packages before it (and the neutral {@code algorithm} and
 * {@code schema}), never one after it; the one exception is execute, which runs the merge. Reads
 * the source files' references ({@code import} lines and fully qualified names alike); no database.
 */
class PackageLayersTest {

  /** Lowest first: a package may refer only to packages to its left. */
  static final List<String> ORDER =
      List.of("algorithm", "schema", "parse", "analyse", "route", "rewrite", "execute", "merge");

  private static final Pattern REFERENCE =
      Pattern.compile("io\\.shardkit\\.router\\.impl\\.(\\w+)\\.");

  static boolean allowed(String from, String to) {
    if (from.equals(to) || from.equals("execute") && to.equals("merge")) {
      return true;
    }
    if (from.equals("merge") && to.equals("execute")) {
      return false; // execute runs the merge: the reverse would be a cycle
    }
    return ORDER.indexOf(to) >= 0 && ORDER.indexOf(to) < ORDER.indexOf(from);
  }

  /** The forbidden references of one source file of package {@code from}, as "from → to". */
  static Set<String> violations(String from, String source) {
    Set<String> out = new TreeSet<>();
    Matcher m = REFERENCE.matcher(source);
    while (m.find()) {
      if (!allowed(from, m.group(1))) {
        out.add(from + " → " + m.group(1));
      }
    }
    return out;
  }

  @Test
  void noStageRefersToALaterStage() throws IOException {
    Path impl = Path.of("src/main/java/io/shardkit/router/impl");
    assertThat(impl).isDirectory();
    List<String> found = new ArrayList<>();
    Set<String> packages = new TreeSet<>();
    try (Stream<Path> files = Files.walk(impl)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        String from = impl.relativize(file).getName(0).toString();
        packages.add(from);
        for (String v : violations(from, Files.readString(file))) {
          found.add(v + " in " + impl.relativize(file));
        }
      }
    }
    assertThat(packages)
        .as("every impl package has a place in the stage order %s", ORDER)
        .isSubsetOf(ORDER)
        .contains("parse", "analyse", "route", "rewrite", "execute", "merge");
    assertThat(found).as("references to a later stage").isEmpty();
  }

  @Test
  void theCheckSeesImportsAndQualifiedNames() {
    assertThat(violations("route", "import io.shardkit.router.impl.rewrite.Rewriter;"))
        .containsExactly("route → rewrite");
    assertThat(violations("rewrite", "x = io.shardkit.router.impl.merge.UnionMerge.of(y);"))
        .containsExactly("rewrite → merge");
    assertThat(violations("merge", "import io.shardkit.router.impl.execute.StatementRunner;"))
        .containsExactly("merge → execute");
    assertThat(violations("parse", "import io.shardkit.router.impl.analyse.MergeSpec;"))
        .containsExactly("parse → analyse");
    assertThat(violations("execute", "import io.shardkit.router.impl.merge.ResultMerger;"))
        .isEmpty();
    assertThat(violations("route", "import io.shardkit.router.impl.parse.ValueRef;")).isEmpty();
  }
}
