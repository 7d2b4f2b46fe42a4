package io.shardkit.router.impl.analyse;

import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Merges the units' partial variances of one group with Chan et al.'s parallel formula: each unit
 * returns {@code COUNT(x)}, {@code SUM(x)} and {@code VAR_POP(x) * 1e0}, read as (n, mean = sum /
 * n, M2 = VAR_POP * n); two partials combine as {@code M2 = M2a + M2b + d² · na · nb / n} with
 * {@code d = mean_b - mean_a}. The server itself runs Welford's algorithm on doubles over the rows
 * it sees, so both are double-precision results of the same rows (they agree to about 15
 * significant digits, the unit's per-row errors aside). Per-unit sums of squares are not used: they
 * cancel catastrophically for large values with a small spread.
 *
 * <p>The server sends a variance of an exact argument (integer, DECIMAL) with the argument's scale
 * + 4 decimals, rounded on the text protocol only (measured: the binary protocol sends it
 * unrounded, grouped or not); a double or string argument is sent unrounded. {@link #result} rounds
 * when the units' {@code PI()} probe came rounded (text protocol), correctly from the double's
 * binary value as the server's {@code my_fcvt} does.
 */
public final class Spread {

  private long n;
  private double mean;
  private double m2;
  private int scale = -1;
  private boolean unrounded;
  private boolean textProtocol;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;

  /** Adds one unit's partial: its COUNT, SUM and VAR_POP, and its {@code PI()} probe. */
  public void add(Object count, Object sum, Object varPop, Object probe) {
    add(count, sum, varPop, probe, false);
  }

  /**
   * As {@link #add(Object, Object, Object, Object)}; {@code bits}: the argument is a BIT column,
   * whose {@code sum} is of its values as doubles, and whose variance the server rounds as an
   * integer argument's.
   */
  public void add(Object count, Object sum, Object varPop, Object probe, boolean bits) {
    long nb = count == null ? 0 : ((Number) count).longValue();
    if (bits) {
      scale = 4;
    } else if (sum instanceof Numeric || sum instanceof BigDecimal || Values.isIntegral(sum)) {
      scale = Math.max(scale, Math.max(0, Values.toBigDecimal(sum).scale()) + 4);
    } else if (sum != null) {
      unrounded = true;
    }
    textProtocol |= probe instanceof Number p && p.doubleValue() != Math.PI;
    if (nb == 0 || sum == null || varPop == null) {
      return;
    }
    double meanB = mean(sum, nb);
    double m2b = ((Number) varPop).doubleValue() * nb;
    if (n == 0) {
      n = nb;
      mean = meanB;
      m2 = m2b;
      return;
    }
    long total = n + nb;
    double delta = meanB - mean;
    m2 = m2 + m2b + delta * delta * ((double) n * nb / total);
    mean = mean + delta * nb / total;
    n = total;
  }

  /** Adds one unit's smallest and largest value (as doubles). */
  public void range(Object unitMin, Object unitMax) {
    if (unitMin instanceof Number a && unitMax instanceof Number b) {
      min = Math.min(min, a.doubleValue());
      max = Math.max(max, b.doubleValue());
    }
  }

  private static double mean(Object sum, long n) {
    if (sum instanceof Double || sum instanceof Float) {
      return ((Number) sum).doubleValue() / n;
    }
    return Values.toBigDecimal(sum)
        .divide(BigDecimal.valueOf(n), MathContext.DECIMAL128)
        .doubleValue();
  }

  /**
   * The merged value: NULL without rows, and for a sample statistic of one row; {@code shown}: as
   * the server sends it (else as it computes with it).
   */
  public Double result(boolean shown, boolean sample, boolean root) {
    if (n == 0 || sample && n == 1) {
      return null;
    }
    // one value in every row: the server's running mean never moves, its variance is exactly 0
    double variance = min == max ? 0 : Math.max(0, m2) / (sample ? n - 1 : n);
    double value = root ? Math.sqrt(variance) : variance;
    if (!shown
        || !textProtocol
        || scale < 0
        || unrounded
        || scale >= 31
        || !Double.isFinite(value)) {
      return value;
    }
    return new BigDecimal(value).setScale(scale, RoundingMode.HALF_EVEN).doubleValue();
  }
}
