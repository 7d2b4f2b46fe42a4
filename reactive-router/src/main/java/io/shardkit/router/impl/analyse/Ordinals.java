package io.shardkit.router.impl.analyse;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The order the server gives ENUM and SET values: an ENUM by its member's declaration index, a SET
 * by its bits (member i is bit i), not by the text. Read from the column's type ({@code
 * enum('new','paid')}), so no derived column is needed; a text that is no member (the server would
 * not return one) orders as 0, like the empty ENUM value.
 *
 * @param members the declared members, in order
 * @param set whether the column is a SET
 */
public record Ordinals(List<String> members, boolean set) {

  public Ordinals {
    members = List.copyOf(members);
  }

  /** The members of an {@code enum(...)} or {@code set(...)} column type; null for others. */
  public static Ordinals parse(String columnType) {
    String type = columnType.strip();
    String lower = type.toLowerCase(Locale.ROOT);
    boolean set = lower.startsWith("set(");
    if (!set && !lower.startsWith("enum(")) {
      return null;
    }
    List<String> members = new ArrayList<>();
    int i = type.indexOf('(') + 1;
    StringBuilder current = null;
    while (i < type.length()) {
      char c = type.charAt(i);
      if (current == null) {
        if (c == '\'') {
          current = new StringBuilder();
        }
      } else if (c == '\'' && i + 1 < type.length() && type.charAt(i + 1) == '\'') {
        current.append('\'');
        i++;
      } else if (c == '\\' && i + 1 < type.length()) {
        current.append(type.charAt(i + 1));
        i++;
      } else if (c == '\'') {
        members.add(current.toString());
        current = null;
      } else {
        current.append(c);
      }
      i++;
    }
    return new Ordinals(members, set);
  }

  /** The value's position (ENUM, 1-based) or bits (SET); 0 for the empty value. */
  public long ordinal(String value) {
    if (!set) {
      return index(value) + 1;
    }
    if (value.isEmpty()) {
      return 0;
    }
    long bits = 0;
    for (String part : value.split(",", -1)) {
      int idx = index(part);
      if (idx >= 0) {
        bits |= 1L << idx;
      }
    }
    return bits;
  }

  private int index(String value) {
    int i = members.indexOf(value);
    if (i >= 0) {
      return i;
    }
    for (int j = 0; j < members.size(); j++) {
      if (members.get(j).equalsIgnoreCase(value.stripTrailing())) {
        return j;
      }
    }
    return -1;
  }
}
