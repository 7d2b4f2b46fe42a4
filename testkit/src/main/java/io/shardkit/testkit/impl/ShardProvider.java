package io.shardkit.testkit.impl;

import io.shardkit.testkit.Shard;
import java.util.List;

/** A way to obtain shards: configured endpoints, Testcontainers or embedded MariaDB. */
public interface ShardProvider extends AutoCloseable {

  /** Short name: {@code endpoints}, {@code testcontainers} or {@code embedded}. */
  String kind();

  /** Starts (or attaches to) {@code count} more shards, numbered from {@code firstIndex}. */
  List<Shard> start(int firstIndex, int count);

  /** Stops every shard this provider started; their data is gone afterwards. */
  @Override
  void close();
}
