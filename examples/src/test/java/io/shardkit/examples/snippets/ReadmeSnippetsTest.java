package io.shardkit.examples.snippets;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every {@code java} code block of the root and module READMEs is compiled code: it appears in this
 * package (ReadmeSnippets, or a test here) with the same tokens. Whitespace and {@code //} comments
 * are ignored, so the formatter may lay the compiled copy out differently.
 */
class ReadmeSnippetsTest {

  private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
  private static final List<String> READMES =
      List.of(
          "../README.md",
          "../context-propagation/README.md",
          "../reactive-router/README.md",
          "../reactive-tx/README.md",
          "../testkit/README.md",
          "../benchmarks/README.md",
          "README.md");

  record Block(String readme, int line, String code) {
    @Override
    public String toString() {
      return readme + ":" + line;
    }
  }

  static List<Block> blocks() throws IOException {
    List<Block> blocks = new ArrayList<>();
    for (String readme : READMES) {
      String text = Files.readString(Path.of(readme));
      Matcher m = JAVA_BLOCK.matcher(text);
      while (m.find()) {
        int line = (int) text.substring(0, m.start()).chars().filter(c -> c == '\n').count() + 1;
        blocks.add(new Block(readme, line, m.group(1)));
      }
    }
    return blocks;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("blocks")
  void readmeBlockIsCompiledCode(Block block) throws IOException {
    String expected = tokens(block.code());
    List<String> actual = new ArrayList<>();
    for (Path root :
        List.of(
            Path.of("src/main/java/io/shardkit/examples/snippets"),
            Path.of("src/test/java/io/shardkit/examples/snippets"))) {
      try (Stream<Path> files = Files.list(root)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          actual.add(tokens(Files.readString(file)));
        }
      }
    }

    assertThat(actual)
        .as("the java block at %s, compiled in examples/.../snippets:%n%s", block, block.code())
        .anyMatch(source -> source.contains(expected));
  }

  @Test
  void everyModuleReadmeIsChecked() throws IOException {
    assertThat(blocks()).hasSizeGreaterThanOrEqualTo(7);
  }

  /** The code without {@code //} comments and whitespace. */
  static String tokens(String code) {
    return code.replaceAll("(?m)(^|\\s)//[^\\n]*", "").replaceAll("\\s+", "");
  }
}
