package io.shardkit.context.junit;

import io.vertx.core.internal.logging.LoggerFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails the test during which a Vert.x thread was blocked: an event loop busy longer than {@code
 * maxEventLoopExecuteTime}, or a worker longer than {@code maxWorkerExecuteTime}, in any {@code
 * Vertx} of the JVM (the test's own, the testkit's, one a library created).
 *
 * <p>Why: Vert.x only logs a blocked thread ({@code Thread ... has been blocked for 406 ms, time
 * limit is 200 ms}) and the test passes anyway, so a blocking call on an event loop goes unnoticed.
 * Every {@code Vertx} has its own blocked-thread checker and no hook reaches all of them, but they
 * all log to the logger {@code io.vertx.core.impl.BlockedThreadChecker}; this extension listens to
 * it. It makes Vert.x log through {@code java.util.logging} (setting {@code
 * vertx.logger-delegate-factory-class-name} when it is not set) because that is the only backend a
 * listener can be added to at run time, and refuses to run if Vert.x already chose another one.
 *
 * <p>Each warning is reported with the blocked thread's stack, taken when the warning fired, so the
 * failure says what blocked. A warning that fires between tests fails the next callback with a note
 * on where it happened. The modules of this project register it for every test through {@code
 * META-INF/services/org.junit.jupiter.api.extension.Extension} and {@code
 * junit.jupiter.extensions.autodetection.enabled=true} in their test resources; other projects can
 * use {@code @ExtendWith(BlockedThreadGuardExtension.class)}.
 */
public final class BlockedThreadGuardExtension
    implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {

  /** The logger every Vert.x blocked-thread checker writes to. */
  public static final String CHECKER_LOGGER = "io.vertx.core.impl.BlockedThreadChecker";

  private static final String JUL_FACTORY = "io.vertx.core.logging.JULLogDelegateFactory";
  private static final String FACTORY_PROPERTY = "vertx.logger-delegate-factory-class-name";

  /**
   * "Thread vert.x-eventloop-thread-0 has been blocked ..." (or "Thread Thread[#23,name,5,main]").
   */
  private static final Pattern THREAD =
      Pattern.compile(
          "Thread (?:Thread\\[(?:#\\d+,)?([^,\\]]+)[^\\]]*\\]|(\\S+)) has been blocked");

  private static final ConcurrentLinkedQueue<String> reports = new ConcurrentLinkedQueue<>();

  /** Held strongly: java.util.logging keeps loggers weakly, and with them their handlers. */
  private static Logger checkerLogger;

  private static String lastPlace = "the start of the test run";

  /** Installs the listener (once per JVM). */
  public BlockedThreadGuardExtension() {
    install();
  }

  private static synchronized void install() {
    if (checkerLogger != null) {
      return;
    }
    if (System.getProperty(FACTORY_PROPERTY) == null) {
      System.setProperty(FACTORY_PROPERTY, JUL_FACTORY);
    }
    String backend = LoggerFactory.getLogger(CHECKER_LOGGER).implementation();
    if (!"jul".equals(backend)) {
      throw new ExtensionConfigurationException(
          "BlockedThreadGuardExtension: Vert.x logs through "
              + backend
              + ", so blocked-thread warnings cannot be observed; run the tests with -D"
              + FACTORY_PROPERTY
              + "="
              + JUL_FACTORY);
    }
    Logger logger = Logger.getLogger(CHECKER_LOGGER);
    logger.addHandler(
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
              reports.add(describe(record));
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        });
    checkerLogger = logger;
  }

  private static String describe(LogRecord record) {
    StringBuilder out = new StringBuilder(String.valueOf(record.getMessage()));
    StackTraceElement[] stack = null;
    if (record.getThrown() != null) {
      stack = record.getThrown().getStackTrace();
    } else {
      Matcher m = THREAD.matcher(out);
      if (m.find()) {
        String name = m.group(1) != null ? m.group(1) : m.group(2);
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
          if (e.getKey().getName().equals(name)) {
            stack = e.getValue();
            break;
          }
        }
      }
    }
    if (stack != null) {
      out.append("\n    blocked at:");
      for (int i = 0; i < Math.min(stack.length, 40); i++) {
        out.append("\n      at ").append(stack[i]);
      }
    }
    return out.toString();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    check("before all tests of " + context.getDisplayName(), true);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    check("before test " + context.getDisplayName(), true);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    check("test " + context.getDisplayName(), false);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    check("the setup or teardown of " + context.getDisplayName(), false);
  }

  private static synchronized void check(String place, boolean between) {
    List<String> found = drain();
    String previous = lastPlace;
    lastPlace = place;
    if (found.isEmpty()) {
      return;
    }
    String where = between ? "between tests, after " + previous + " and " + place : place;
    // One block is reported every check interval while it lasts: show the first and the last.
    List<String> shown =
        found.size() <= 2 ? found : List.of(found.get(0), found.get(found.size() - 1));
    throw new AssertionError(
        "a Vert.x thread was blocked during "
            + where
            + " ("
            + found.size()
            + " warning(s); move blocking work off the event loop, e.g. executeBlocking):\n"
            + String.join("\n", shown));
  }

  /**
   * Takes the blocked-thread warnings recorded since the last call, each with the blocked thread's
   * stack; for tests of the guard itself.
   */
  public static List<String> drain() {
    List<String> out = new ArrayList<>();
    for (String r = reports.poll(); r != null; r = reports.poll()) {
      out.add(r);
    }
    return out;
  }
}
