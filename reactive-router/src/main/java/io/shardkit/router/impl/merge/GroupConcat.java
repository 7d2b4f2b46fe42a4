package io.shardkit.router.impl.merge;

import io.shardkit.router.impl.analyse.Collated;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Joins the GROUP_CONCAT values of one group across units: the units' own values in arrival order,
 * or for DISTINCT the distinct argument values (text form from the unit) in ascending order; then
 * cuts the result to {@code group_concat_max_len} bytes on a character boundary, as the server
 * does. NULL values are skipped; no value at all gives NULL. Binary values stay binary.
 */
final class GroupConcat {

  private final String separator;
  private final List<Object> parts = new ArrayList<>();
  private final Map<Object, Object[]> distinct = new LinkedHashMap<>();
  private long maxLength = -1;

  GroupConcat(String separator) {
    this.separator = separator;
  }

  void maxLength(Object value) {
    if (maxLength < 0 && value instanceof Number n) {
      maxLength = n.longValue();
    }
  }

  void add(Object value) {
    if (value != null) {
      parts.add(value);
    }
  }

  private Object pad;

  /**
   * A DISTINCT value: its hash key (sort key for strings), the value, its sort key and its text.
   */
  void addDistinct(Object key, Object value, Object weight, Object text) {
    if (value != null && text != null) {
      distinct.putIfAbsent(key, new Object[] {value, text, weight});
    }
  }

  /** The space weight of the argument's collation under PAD SPACE. */
  void pad(Object pad) {
    if (this.pad == null) {
      this.pad = pad;
    }
  }

  Object result() {
    List<Object> values = parts;
    if (!distinct.isEmpty()) {
      List<Object[]> sorted = new ArrayList<>(distinct.values());
      sorted.sort((p, q) -> Collated.compare(p[0], p[2], q[0], q[2], pad));
      values = new ArrayList<>();
      for (Object[] p : sorted) {
        values.add(p[1]);
      }
    }
    if (values.isEmpty()) {
      return null;
    }
    boolean binary = values.stream().anyMatch(v -> v instanceof Buffer);
    if (binary) {
      Buffer out = Buffer.buffer();
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) {
          out.appendString(separator);
        }
        Object v = values.get(i);
        out.appendBuffer(v instanceof Buffer b ? b : Buffer.buffer(String.valueOf(v)));
      }
      return maxLength >= 0 && out.length() > maxLength ? out.getBuffer(0, (int) maxLength) : out;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) {
        out.append(separator);
      }
      out.append(values.get(i));
    }
    return cut(out.toString(), maxLength);
  }

  /** The longest prefix of whole characters whose UTF-8 form fits in {@code maxBytes}. */
  static String cut(String text, long maxBytes) {
    if (maxBytes < 0 || text.length() * 4L <= maxBytes) {
      return text;
    }
    long bytes = 0;
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      int size = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + size > maxBytes) {
        break;
      }
      bytes += size;
      i += Character.charCount(cp);
    }
    return text.substring(0, i);
  }
}
