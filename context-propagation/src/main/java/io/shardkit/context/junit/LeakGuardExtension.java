package io.shardkit.context.junit;

import io.shardkit.context.ScopeRegistry;
import io.shardkit.context.TxScope;
import io.vertx.core.Context;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test that leaves a scope open, a resource pinned or a deadline timer pending.
 *
 * <p>Register it on a test class with {@code @ExtendWith(LeakGuardExtension.class)} (checks after
 * each test and after the class), or as a field with {@code @RegisterExtension} to choose the grace
 * period. List it after {@code VertxExtension} in {@code @ExtendWith}: JUnit runs {@code afterEach}
 * callbacks in reverse order, so the check then runs while the test's {@code Vertx} is still open
 * and pending scopes can still close.
 *
 * <p>The check waits up to the grace period (default {@link #DEFAULT_GRACE}) for the {@linkplain
 * TxScope#registry() registry} to become idle, since a test may finish a moment before the last
 * scope closes on its event loop. If it does not, the test fails with the registry's report (which
 * scope owns what), and every leftover is force-closed so the next test starts clean. The wait
 * happens on JUnit's thread; called on a Vert.x thread, the check does not wait.
 */
public final class LeakGuardExtension implements AfterEachCallback, AfterAllCallback {

  /** How long the check waits for open work to close: 2 seconds. */
  public static final Duration DEFAULT_GRACE = Duration.ofSeconds(2);

  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  private final Duration grace;

  /** A guard with the default grace period. */
  public LeakGuardExtension() {
    this(DEFAULT_GRACE);
  }

  /** A guard that waits up to {@code grace} for open work to close. */
  public LeakGuardExtension(Duration grace) {
    if (grace == null || grace.isNegative()) {
      throw new IllegalArgumentException("grace must be zero or positive, got " + grace);
    }
    this.grace = grace;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    check("after test " + context.getDisplayName());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    check("after all tests of " + context.getDisplayName());
  }

  /**
   * Checks the registry now (waiting up to the grace period).
   *
   * @throws AssertionError naming what was left open
   */
  public void check(String when) {
    ScopeRegistry registry = TxScope.registry();
    if (!registry.isIdle() && !Context.isOnVertxThread()) {
      long until = System.nanoTime() + grace.toNanos();
      while (!registry.isIdle() && System.nanoTime() - until < 0) {
        // A test thread polling a counter, never an event loop (checked above).
        LockSupport.parkNanos(POLL_NANOS);
      }
    }
    if (!registry.isIdle()) {
      String report = registry.describe();
      registry.forceCloseAll("closed by LeakGuardExtension " + when);
      throw new AssertionError("Leak " + when + ": " + report);
    }
  }
}
