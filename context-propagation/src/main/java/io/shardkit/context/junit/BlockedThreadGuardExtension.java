package io.shardkit.context.junit;

import io.vertx.core.internal.logging.LoggerFactory;
import java.util.ArrayList;
import java.util.List;
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
 * failure says what blocked. A thread found waiting (sleeping, parked, waiting for a lock or a
 * future, in a blocking read) fails the test at the first warning; a thread that is busy computing
 * fails it from {@link #BUSY_FAIL_MILLIS} (2 s, Vert.x's default limit), or 5 s when it is only
 * loading classes; shorter busy warnings are printed to the test's output with their stack. A
 * warning that fires between tests fails the next callback with a note on where it happened. The
 * modules of this project register it for every test through {@code
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

  /**
   * How long an event loop may stay busy (running, not waiting) before the test fails: {@code
   * shardkit.test.busyFailMillis}, default 2000 ms, Vert.x's own default limit. Vert.x warns from
   * the test's limit on (200 ms in most of this project's tests), but on a 2-core machine shared
   * with MariaDB servers and other builds a thread that merely computes is sometimes held that long
   * by the scheduler; such warnings are printed with their stack. A thread found waiting (sleep,
   * lock, a future's get, socket I/O) fails the test at the first warning.
   */
  static final long BUSY_FAIL_MILLIS = Long.getLong("shardkit.test.busyFailMillis", 2_000);

  /** A block in JVM warm-up (see {@link #warmingUp}) fails from 5 s on. */
  static final long WARM_UP_FAIL_MILLIS = Math.max(BUSY_FAIL_MILLIS, 5_000);

  private static final Pattern BLOCKED_FOR = Pattern.compile("has been blocked for (\\d+) ms");

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
              Thread thread = thread(String.valueOf(record.getMessage()));
              Thread.State state = thread == null ? null : thread.getState();
              StackTraceElement[] stack =
                  record.getThrown() != null
                      ? record.getThrown().getStackTrace()
                      : thread != null ? thread.getStackTrace() : new StackTraceElement[0];
              String report = describe(record, state, stack);
              long blocked = blockedMillis(String.valueOf(record.getMessage()));
              String kind = kind(state, stack);
              long failAfter =
                  switch (kind) {
                    case "waiting" -> 0;
                    case "warm-up" -> WARM_UP_FAIL_MILLIS;
                    default -> BUSY_FAIL_MILLIS;
                  };
              if (blocked >= failAfter) {
                reports.add(report);
              } else {
                System.err.println(
                    "BlockedThreadGuardExtension: reported, not failed ("
                        + kind
                        + ", under "
                        + failAfter
                        + " ms):\n"
                        + report);
              }
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        });
    checkerLogger = logger;
  }

  static long blockedMillis(String message) {
    Matcher m = BLOCKED_FOR.matcher(message);
    return m.find() ? Long.parseLong(m.group(1)) : Long.MAX_VALUE;
  }

  /** The thread a warning names, if it is still alive. */
  private static Thread thread(String message) {
    Matcher m = THREAD.matcher(message);
    if (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        if (t.getName().equals(name)) {
          return t;
        }
      }
    }
    return null;
  }

  /**
   * "warm-up" when it is loading or linking classes (see {@link #warmingUp}); "waiting" when it is
   * parked, sleeping, waiting for a lock or in socket or file I/O; "busy" otherwise.
   */
  static String kind(Thread.State state, StackTraceElement[] stack) {
    // First: a thread waiting for another thread's class loading lock is warming up too.
    if (warmingUp(stack)) {
      return "warm-up";
    }
    if (state == Thread.State.WAITING
        || state == Thread.State.TIMED_WAITING
        || state == Thread.State.BLOCKED
        || inBlockingIo(stack)) {
      return "waiting";
    }
    return "busy";
  }

  /** A RUNNABLE thread inside a blocking read, connect or poll (a JDBC call, a blocking socket). */
  static boolean inBlockingIo(StackTraceElement[] stack) {
    if (stack.length == 0) {
      return false;
    }
    StackTraceElement top = stack[0];
    String type = top.getClassName();
    String method = top.getMethodName();
    return (type.startsWith("sun.nio.ch.") || type.startsWith("java.net."))
            && (method.startsWith("read")
                || method.startsWith("socketRead")
                || method.startsWith("poll")
                || method.startsWith("connect")
                || method.startsWith("accept"))
        || type.equals("java.io.FileInputStream") && method.startsWith("read");
  }

  /**
   * Whether the thread was warming up rather than blocked: loading, defining or initialising a
   * class, linking a lambda or call site, or building reflection data. A JVM does that once per
   * class, on whichever thread first needs it (a first gRPC call loads hundreds of Netty classes,
   * slower still under the coverage agent on a busy 2-core machine); it is not code that waits.
   * Decided from the innermost frames, those of the JDK (and of the coverage agent) above the first
   * application frame, plus any static initialiser on the stack. A blocking call (sleep, lock,
   * socket, a future's get) has other JDK frames on top and still fails the test; so does the next
   * warning of the same block once it goes on in ordinary code.
   */
  static boolean warmingUp(StackTraceElement[] stack) {
    if (stack.length > 0 && stack[0].getMethodName().equals("$jacocoInit")) {
      // the coverage agent registering a class's probes on its first use: once per class
      return true;
    }
    for (StackTraceElement frame : stack) {
      if (frame.getMethodName().equals("<clinit>")) {
        return true;
      }
    }
    for (StackTraceElement frame : stack) {
      String type = frame.getClassName();
      boolean platform =
          type.startsWith("java.")
              || type.startsWith("jdk.")
              || type.startsWith("sun.")
              || type.startsWith("org.jacoco.");
      if (!platform) {
        return false;
      }
      if (type.equals("java.lang.ClassLoader")
          || type.equals("java.security.SecureClassLoader")
          || type.startsWith("jdk.internal.loader.")
          || type.startsWith("java.lang.invoke.")
          || type.startsWith("jdk.internal.org.objectweb.asm.")
          || type.equals("java.lang.Class")
          || type.equals("java.lang.PublicMethods")
          || type.startsWith("java.lang.PublicMethods$")
          || type.startsWith("jdk.internal.reflect.")
          || type.startsWith("java.lang.reflect.")
          || type.startsWith("sun.instrument.")
          || type.startsWith("org.jacoco.")) {
        return true;
      }
    }
    return false;
  }

  private static String describe(LogRecord record, Thread.State state, StackTraceElement[] stack) {
    StringBuilder out = new StringBuilder(String.valueOf(record.getMessage()));
    if (stack.length > 0) {
      out.append("\n    blocked at (thread ").append(state).append("):");
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
