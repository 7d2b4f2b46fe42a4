package io.shardkit.router.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds the corpus folder: system property {@value #PROPERTY}, else environment variable {@value
 * #ENV}, else the shared corpus {@code ../shared/conformance/shardingsphere} next to the repository
 * root. For a git worktree the main checkout's root is tried too, then each ancestor folder's
 * {@code shared/conformance/shardingsphere}, and last the copy of that corpus kept in this module
 * ({@code src/test/corpus/shardingsphere}, see its README for provenance and licence), so that a
 * clean clone without the shared folder still runs the differential test.
 */
final class CorpusLocator {

  static final String PROPERTY = "shardkit.conformance.dir";
  static final String ENV = "SHARDKIT_CONFORMANCE_DIR";
  static final String DEFAULT = "shared/conformance/shardingsphere";
  static final String VENDORED = "src/test/corpus/shardingsphere";

  /**
   * @param path the folder (it may not exist)
   * @param source where the path came from, for messages
   * @param tried every path looked at, for the skip message
   */
  record Located(Path path, String source, List<Path> tried) {
    boolean exists() {
      return Files.isDirectory(path);
    }
  }

  private CorpusLocator() {}

  /** The module folder (surefire's {@code basedir}, else the working directory). */
  static Path moduleDir() {
    return Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
        .toAbsolutePath()
        .normalize();
  }

  static Located locate() {
    String configured = System.getProperty(PROPERTY);
    String source = "system property " + PROPERTY;
    if (configured == null || configured.isBlank()) {
      configured = System.getenv(ENV);
      source = "environment variable " + ENV;
    }
    if (configured != null && !configured.isBlank()) {
      Path p = moduleDir().resolve(configured.strip()).normalize();
      return new Located(p, source, List.of(p));
    }
    List<Path> candidates = defaultCandidates(moduleDir());
    for (Path p : candidates) {
      if (Files.isDirectory(p)) {
        return new Located(p, "default", candidates);
      }
    }
    return new Located(candidates.get(0), "default", candidates);
  }

  static List<Path> defaultCandidates(Path moduleDir) {
    Path root = repositoryRoot(moduleDir);
    Set<Path> out = new LinkedHashSet<>();
    if (root.getParent() != null) {
      out.add(root.getParent().resolve(DEFAULT));
    }
    Path main = mainWorktreeRoot(root);
    if (main != null && main.getParent() != null) {
      out.add(main.getParent().resolve(DEFAULT));
    }
    for (Path p = root.getParent(); p != null; p = p.getParent()) {
      out.add(p.resolve(DEFAULT));
    }
    out.add(moduleDir.resolve(VENDORED));
    return new ArrayList<>(out);
  }

  /** The highest folder at or above the module that has a pom.xml (the reactor root). */
  static Path repositoryRoot(Path moduleDir) {
    Path root = moduleDir;
    for (Path p = moduleDir; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("pom.xml"))) {
        root = p;
      } else {
        break;
      }
    }
    return root;
  }

  /** For a linked worktree ({@code .git} is a file "gitdir: MAIN/.git/worktrees/NAME"): MAIN. */
  static Path mainWorktreeRoot(Path root) {
    Path git = root.resolve(".git");
    if (!Files.isRegularFile(git)) {
      return null;
    }
    try {
      String line = Files.readString(git).strip();
      if (!line.startsWith("gitdir:")) {
        return null;
      }
      Path gitDir = root.resolve(line.substring(7).strip()).normalize();
      for (Path p = gitDir; p != null; p = p.getParent()) {
        if (p.getFileName() != null && p.getFileName().toString().equals(".git")) {
          return p.getParent();
        }
      }
      return null;
    } catch (IOException e) {
      return null;
    }
  }
}
