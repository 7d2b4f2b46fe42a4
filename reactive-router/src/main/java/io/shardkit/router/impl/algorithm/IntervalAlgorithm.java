package io.shardkit.router.impl.algorithm;

import io.shardkit.router.spi.ShardingAlgorithm;
import io.shardkit.router.spi.ShardingAlgorithmFactory;
import io.shardkit.router.spi.ValueRange;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code interval}: one target per period of a date/datetime column. Props: {@code start} (ISO date
 * or datetime, the first period's start), {@code unit} ({@code DAYS}, {@code MONTHS} or {@code
 * YEARS}), {@code amount} (periods of that many units, default 1) and {@code suffix} (a {@link
 * DateTimeFormatter} pattern, e.g. {@code yyyyMM}). A value goes to the target whose name ends with
 * the formatted start of its period; values before {@code start} or after the last target's period
 * have no target. A range goes to every period it overlaps.
 */
final class IntervalAlgorithm implements ShardingAlgorithm {

  private final List<LocalDateTime> starts = new ArrayList<>();
  private final List<String> targets = new ArrayList<>();
  private final ChronoUnit unit;
  private final long amount;

  IntervalAlgorithm(ShardingAlgorithmFactory.Context context) {
    String startText = context.props().getString("start");
    if (startText == null) {
      throw new IllegalArgumentException("start is required (ISO date such as 2024-01-01)");
    }
    LocalDateTime start = ShardingValues.toDateTime(startText);
    String unitText = context.props().getString("unit", "MONTHS").toUpperCase(Locale.ROOT);
    unit =
        switch (unitText) {
          case "DAYS" -> ChronoUnit.DAYS;
          case "MONTHS" -> ChronoUnit.MONTHS;
          case "YEARS" -> ChronoUnit.YEARS;
          default ->
              throw new IllegalArgumentException(
                  "unit must be DAYS, MONTHS or YEARS, got " + unitText);
        };
    Object amountValue = context.props().getValue("amount", 1);
    amount = ModAlgorithm.positive(amountValue);
    String pattern = context.props().getString("suffix");
    if (pattern == null) {
      throw new IllegalArgumentException("suffix is required (a date pattern such as yyyyMM)");
    }
    DateTimeFormatter formatter;
    try {
      formatter = DateTimeFormatter.ofPattern(pattern, Locale.ROOT);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "suffix '" + pattern + "' is not a date pattern: " + e.getMessage());
    }
    Map<String, String> bySuffix = new HashMap<>();
    for (String target : context.targets()) {
      bySuffix.put(target, target);
    }
    LocalDateTime period = start;
    int matched = 0;
    for (int i = 0; i < 100_000 && matched < context.targets().size(); i++) {
      String suffix = formatter.format(period);
      for (String target : context.targets()) {
        if (target.endsWith(suffix)) {
          starts.add(period);
          targets.add(target);
          matched++;
          break;
        }
      }
      period = period.plus(amount, unit);
    }
    if (starts.isEmpty()) {
      throw new IllegalArgumentException(
          "no target ends with a period suffix (" + pattern + ") from " + startText);
    }
  }

  private int periodOf(LocalDateTime value) {
    if (value.isBefore(starts.get(0))) {
      return -1;
    }
    int lo = 0;
    int hi = starts.size() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (starts.get(mid).isAfter(value)) {
        hi = mid - 1;
      } else {
        lo = mid;
      }
    }
    return value.isBefore(starts.get(lo).plus(amount, unit)) ? lo : -1;
  }

  @Override
  public String target(List<?> values) {
    int p = periodOf(ShardingValues.toDateTime(values.get(0)));
    return p < 0 ? null : targets.get(p);
  }

  @Override
  public Collection<String> targets(ValueRange range) {
    LocalDateTime lower = range.lower() == null ? null : ShardingValues.toDateTime(range.lower());
    LocalDateTime upper = range.upper() == null ? null : ShardingValues.toDateTime(range.upper());
    List<String> result = new ArrayList<>();
    for (int i = 0; i < starts.size(); i++) {
      LocalDateTime from = starts.get(i);
      LocalDateTime until = from.plus(amount, unit);
      boolean afterLower = lower == null || until.isAfter(lower);
      boolean beforeUpper =
          upper == null || (range.upperInclusive() ? !from.isAfter(upper) : from.isBefore(upper));
      if (afterLower && beforeUpper) {
        result.add(targets.get(i));
      }
    }
    return result;
  }

  /** Factory for {@code interval}. */
  public static final class Factory implements ShardingAlgorithmFactory {
    @Override
    public String type() {
      return "interval";
    }

    @Override
    public ShardingAlgorithm create(Context context) {
      return new IntervalAlgorithm(context);
    }
  }
}
