package io.shardkit.router;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * How reads are spread over a data source's read replicas and when a replica is too far behind to
 * be read (ShardingSphere's {@code readwriteSplitting} rule: one write data source and its read
 * data sources per group, with a load balancer). The replicas themselves are given per data source
 * ({@link ShardedPool.Builder#replica}); these options apply to every group.
 *
 * <p>A replica is <b>healthy</b> while the heartbeat the pool writes on its primary every {@code
 * heartbeatInterval} shows up on the replica less than {@code maxReplicationLag} after the primary
 * acknowledged it, and the replica answers. An unhealthy replica gets no reads until it is healthy
 * again; with no healthy replica, reads go to the primary.
 *
 * @param loadBalancer how a read picks among the healthy replicas
 * @param maxReplicationLag a replica further behind than this gets no reads
 * @param heartbeatInterval how often the heartbeat is written and read
 * @param heartbeatTable the table the heartbeat is kept in, created on each primary when missing
 */
public record ReadWriteSplittingOptions(
    LoadBalancer loadBalancer,
    Duration maxReplicationLag,
    Duration heartbeatInterval,
    String heartbeatTable) {

  /** ShardingSphere's load-balancer types. */
  public enum LoadBalancer {
    /** Each healthy replica in turn. */
    ROUND_ROBIN,
    /** A healthy replica at random, all equally likely. */
    RANDOM,
    /** A healthy replica at random, in proportion to its weight. */
    WEIGHT
  }

  public static final Duration DEFAULT_MAX_REPLICATION_LAG = Duration.ofSeconds(1);
  public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofMillis(200);
  public static final String DEFAULT_HEARTBEAT_TABLE = "shardkit_heartbeat";

  private static final Set<String> FIELDS =
      Set.of("loadBalancer", "maxReplicationLagMs", "heartbeatIntervalMs", "heartbeatTable");

  public ReadWriteSplittingOptions {
    Objects.requireNonNull(loadBalancer, "loadBalancer");
    if (maxReplicationLag == null || maxReplicationLag.isNegative() || maxReplicationLag.isZero()) {
      throw new ShardingConfigurationException(
          "readWriteSplitting.maxReplicationLagMs", "must be positive, got " + maxReplicationLag);
    }
    if (heartbeatInterval == null || heartbeatInterval.toMillis() < 10) {
      throw new ShardingConfigurationException(
          "readWriteSplitting.heartbeatIntervalMs",
          "must be at least 10 ms, got " + heartbeatInterval);
    }
    if (heartbeatTable == null || !heartbeatTable.matches("[A-Za-z_][A-Za-z0-9_]{0,63}")) {
      throw new ShardingConfigurationException(
          "readWriteSplitting.heartbeatTable",
          "must be a plain table name (letters, digits, _), got '" + heartbeatTable + "'");
    }
  }

  /** Round robin, 1 s maximum lag, a heartbeat every 200 ms in {@code shardkit_heartbeat}. */
  public static ReadWriteSplittingOptions defaults() {
    return new ReadWriteSplittingOptions(
        LoadBalancer.ROUND_ROBIN,
        DEFAULT_MAX_REPLICATION_LAG,
        DEFAULT_HEARTBEAT_INTERVAL,
        DEFAULT_HEARTBEAT_TABLE);
  }

  public ReadWriteSplittingOptions withLoadBalancer(LoadBalancer balancer) {
    return new ReadWriteSplittingOptions(
        balancer, maxReplicationLag, heartbeatInterval, heartbeatTable);
  }

  public ReadWriteSplittingOptions withMaxReplicationLag(Duration lag) {
    return new ReadWriteSplittingOptions(loadBalancer, lag, heartbeatInterval, heartbeatTable);
  }

  public ReadWriteSplittingOptions withHeartbeatInterval(Duration interval) {
    return new ReadWriteSplittingOptions(loadBalancer, maxReplicationLag, interval, heartbeatTable);
  }

  /**
   * Reads {@code {"loadBalancer": "ROUND_ROBIN" | "RANDOM" | "WEIGHT", "maxReplicationLagMs": 1000,
   * "heartbeatIntervalMs": 200, "heartbeatTable": "shardkit_heartbeat"}}; missing fields keep their
   * defaults.
   *
   * @throws ShardingConfigurationException naming the field of an unknown or invalid entry
   */
  public static ReadWriteSplittingOptions fromJson(JsonObject json) {
    for (String field : json.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw new ShardingConfigurationException(
            "readWriteSplitting." + field, "unknown field (known: " + FIELDS + ")");
      }
    }
    ReadWriteSplittingOptions o = defaults();
    Object balancer = json.getValue("loadBalancer");
    LoadBalancer lb = o.loadBalancer();
    if (balancer != null) {
      try {
        lb = LoadBalancer.valueOf(String.valueOf(balancer).toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new ShardingConfigurationException(
            "readWriteSplitting.loadBalancer",
            "must be ROUND_ROBIN, RANDOM or WEIGHT, got " + balancer);
      }
    }
    return new ReadWriteSplittingOptions(
        lb,
        millis(json, "maxReplicationLagMs", o.maxReplicationLag()),
        millis(json, "heartbeatIntervalMs", o.heartbeatInterval()),
        json.containsKey("heartbeatTable")
            ? String.valueOf(json.getValue("heartbeatTable"))
            : o.heartbeatTable());
  }

  private static Duration millis(JsonObject json, String field, Duration otherwise) {
    if (!json.containsKey(field)) {
      return otherwise;
    }
    Object v = json.getValue(field);
    if (!(v instanceof Number n) || n.longValue() != n.doubleValue() || n.longValue() < 1) {
      throw new ShardingConfigurationException(
          "readWriteSplitting." + field, "must be a positive integer, got " + v);
    }
    return Duration.ofMillis(n.longValue());
  }
}
