package io.shardkit.router.impl.merge;

import io.vertx.sqlclient.Row;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;

/**
 * Merges already sorted row sequences into one sorted sequence, holding one row per source (a
 * priority queue of source heads). Ties keep the source order, so the merge is stable.
 */
final class KWayMerge implements Iterator<Row> {

  private final PriorityQueue<Head> heads;

  private record Head(Row row, int source, Iterator<Row> rest) {}

  KWayMerge(List<Iterator<Row>> sources, Comparator<Row> order) {
    heads =
        new PriorityQueue<>(
            Math.max(1, sources.size()),
            (a, b) -> {
              int c = order.compare(a.row, b.row);
              return c != 0 ? c : Integer.compare(a.source, b.source);
            });
    for (int i = 0; i < sources.size(); i++) {
      Iterator<Row> it = sources.get(i);
      if (it.hasNext()) {
        heads.add(new Head(it.next(), i, it));
      }
    }
  }

  @Override
  public boolean hasNext() {
    return !heads.isEmpty();
  }

  @Override
  public Row next() {
    Head head = heads.poll();
    if (head == null) {
      throw new NoSuchElementException();
    }
    if (head.rest.hasNext()) {
      heads.add(new Head(head.rest.next(), head.source, head.rest));
    }
    return head.row;
  }
}
