package io.shardkit.router.impl.algorithm;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds a target by the number its name ends with ({@code ds_3} → 3, {@code t_order_07} → 7), the
 * convention of the modulo and range algorithms.
 */
final class SuffixIndex {

  private final Map<Long, String> bySuffix = new HashMap<>();

  SuffixIndex(List<String> targets) {
    for (String target : targets) {
      int end = target.length();
      int start = end;
      while (start > 0 && Character.isDigit(target.charAt(start - 1))) {
        start--;
      }
      if (start == end) {
        throw new IllegalArgumentException("target '" + target + "' does not end with a number");
      }
      long suffix = Long.parseLong(target.substring(start, end));
      String previous = bySuffix.put(suffix, target);
      if (previous != null) {
        throw new IllegalArgumentException(
            "targets '" + previous + "' and '" + target + "' end with the same number");
      }
    }
  }

  String get(long suffix) {
    return bySuffix.get(suffix);
  }
}
