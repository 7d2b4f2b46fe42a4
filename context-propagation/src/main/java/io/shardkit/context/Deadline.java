package io.shardkit.context;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * An absolute point in time by which work must be finished, measured on this process's monotonic
 * clock ({@link System#nanoTime()}), so it is immune to wall-clock jumps.
 *
 * <p>A deadline never crosses a process boundary as an absolute value: on the wire it travels as
 * the time <em>remaining</em> ({@link #remaining()}, {@link #toGrpcTimeout()}), and the receiver
 * rebuilds a local deadline from it ({@link #in(Duration)}, {@link #fromGrpcTimeout(String)}).
 * Remaining times are truncated when they are encoded, so a hop never receives more time than the
 * sender had left.
 *
 * <p>Immutable and thread-safe. Two deadlines are equal when they denote the same instant.
 */
public final class Deadline implements Comparable<Deadline> {

  /** gRPC's limit on the digits of a {@code grpc-timeout} value. */
  private static final long GRPC_MAX_VALUE = 99_999_999L;

  private static final long MAX_NANOS = Long.MAX_VALUE / 4;

  private final long nanoTime;

  private Deadline(long nanoTime) {
    this.nanoTime = nanoTime;
  }

  /**
   * A deadline {@code timeout} from now. A zero or negative timeout gives a deadline that has
   * already expired (this is how an exhausted budget arrives from the wire); use {@link
   * ScopeOptions} to reject such values from configuration.
   *
   * @throws NullPointerException if {@code timeout} is null
   */
  public static Deadline in(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    return new Deadline(System.nanoTime() + saturatedNanos(timeout));
  }

  /** A deadline {@code amount unit} from now; see {@link #in(Duration)}. */
  public static Deadline in(long amount, TimeUnit unit) {
    return new Deadline(System.nanoTime() + clamp(unit.toNanos(amount)));
  }

  /**
   * Parses a gRPC {@code grpc-timeout} value (1 to 8 digits followed by one of {@code H M S m u n})
   * into a deadline that far from now.
   *
   * @throws IllegalArgumentException if the value is not a valid {@code grpc-timeout}
   */
  public static Deadline fromGrpcTimeout(String grpcTimeout) {
    Objects.requireNonNull(grpcTimeout, "grpcTimeout");
    int length = grpcTimeout.length();
    if (length < 2 || length > 9) {
      throw new IllegalArgumentException("not a grpc-timeout value: '" + grpcTimeout + "'");
    }
    long value = 0;
    for (int i = 0; i < length - 1; i++) {
      char c = grpcTimeout.charAt(i);
      if (c < '0' || c > '9') {
        throw new IllegalArgumentException("not a grpc-timeout value: '" + grpcTimeout + "'");
      }
      value = value * 10 + (c - '0');
    }
    TimeUnit unit =
        switch (grpcTimeout.charAt(length - 1)) {
          case 'H' -> TimeUnit.HOURS;
          case 'M' -> TimeUnit.MINUTES;
          case 'S' -> TimeUnit.SECONDS;
          case 'm' -> TimeUnit.MILLISECONDS;
          case 'u' -> TimeUnit.MICROSECONDS;
          case 'n' -> TimeUnit.NANOSECONDS;
          default ->
              throw new IllegalArgumentException("not a grpc-timeout value: '" + grpcTimeout + "'");
        };
    return in(value, unit);
  }

  /** The remaining time, never negative: {@link Duration#ZERO} once the deadline has passed. */
  public Duration remaining() {
    return Duration.ofNanos(remainingNanos());
  }

  /** The remaining time in nanoseconds, never negative. */
  public long remainingNanos() {
    long left = nanoTime - System.nanoTime();
    return left > 0 ? left : 0;
  }

  /**
   * The remaining time in whole milliseconds, truncated (never rounded up): the value written to
   * the {@code shardkit-timeout-ms} event-bus header.
   */
  public long remainingMillis() {
    return TimeUnit.NANOSECONDS.toMillis(remainingNanos());
  }

  /** Whether the deadline has passed. */
  public boolean isExpired() {
    return nanoTime - System.nanoTime() <= 0;
  }

  /** The earlier of this deadline and {@code other}. */
  public Deadline min(Deadline other) {
    return other.nanoTime - nanoTime < 0 ? other : this;
  }

  /** Whether this deadline comes strictly before {@code other}. */
  public boolean isBefore(Deadline other) {
    return nanoTime - other.nanoTime < 0;
  }

  /**
   * The remaining time encoded as a gRPC {@code grpc-timeout} value, truncated to the finest unit
   * that fits gRPC's eight digits (e.g. {@code 4999871u}). An expired deadline encodes as {@code
   * 1n}, never as zero, because many servers read a zero timeout as "no timeout"; callers should
   * check {@link #isExpired()} and not send the call at all.
   */
  public String toGrpcTimeout() {
    long nanos = Math.max(1, remainingNanos());
    if (nanos <= GRPC_MAX_VALUE) {
      return nanos + "n";
    }
    long micros = TimeUnit.NANOSECONDS.toMicros(nanos);
    if (micros <= GRPC_MAX_VALUE) {
      return micros + "u";
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(nanos);
    if (millis <= GRPC_MAX_VALUE) {
      return millis + "m";
    }
    long seconds = TimeUnit.NANOSECONDS.toSeconds(nanos);
    if (seconds <= GRPC_MAX_VALUE) {
      return seconds + "S";
    }
    return Math.min(GRPC_MAX_VALUE, TimeUnit.NANOSECONDS.toHours(nanos)) + "H";
  }

  @Override
  public int compareTo(Deadline other) {
    return Long.signum(nanoTime - other.nanoTime);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Deadline other && other.nanoTime == nanoTime;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(nanoTime);
  }

  @Override
  public String toString() {
    long left = nanoTime - System.nanoTime();
    return left > 0
        ? "Deadline[in " + TimeUnit.NANOSECONDS.toMillis(left) + " ms]"
        : "Deadline[expired " + TimeUnit.NANOSECONDS.toMillis(-left) + " ms ago]";
  }

  private static long saturatedNanos(Duration duration) {
    try {
      return clamp(duration.toNanos());
    } catch (ArithmeticException tooLong) {
      return duration.isNegative() ? -MAX_NANOS : MAX_NANOS;
    }
  }

  /** Keeps {@code nanoTime + nanos} clear of overflow (about 73 years either way). */
  private static long clamp(long nanos) {
    return Math.max(-MAX_NANOS, Math.min(MAX_NANOS, nanos));
  }
}
