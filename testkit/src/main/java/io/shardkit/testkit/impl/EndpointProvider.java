package io.shardkit.testkit.impl;

import io.shardkit.context.ConfigurationException;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.TestShardsException;
import java.util.ArrayList;
import java.util.List;

/**
 * Shards on servers someone else runs (CI services, a developer's own MySQL), given as {@code
 * [user[:password]@]host:port} separated by commas. When fewer servers than shards are given,
 * shards share servers round-robin; they never share databases because every database the testkit
 * creates carries the shard's index.
 */
public final class EndpointProvider implements ShardProvider {

  private final List<Endpoint> endpoints;

  public EndpointProvider(String spec) {
    this.endpoints = parse(spec);
  }

  record Endpoint(String user, String password, String host, int port) {}

  static List<Endpoint> parse(String spec) {
    List<Endpoint> out = new ArrayList<>();
    for (String raw : spec.split(",")) {
      String item = raw.trim();
      if (item.isEmpty()) {
        continue;
      }
      String user = "root";
      String password = "";
      int at = item.lastIndexOf('@');
      if (at >= 0) {
        String credentials = item.substring(0, at);
        item = item.substring(at + 1);
        int colon = credentials.indexOf(':');
        user = colon < 0 ? credentials : credentials.substring(0, colon);
        password = colon < 0 ? "" : credentials.substring(colon + 1);
      }
      int colon = item.lastIndexOf(':');
      if (colon <= 0) {
        throw new ConfigurationException(
            "SHARDKIT_TESTKIT_ENDPOINTS",
            "expected [user[:password]@]host:port, got '" + raw + "'");
      }
      int port;
      try {
        port = Integer.parseInt(item.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new ConfigurationException(
            "SHARDKIT_TESTKIT_ENDPOINTS", "port is not a number in '" + raw + "'", e);
      }
      out.add(new Endpoint(user, password, item.substring(0, colon), port));
    }
    if (out.isEmpty()) {
      throw new ConfigurationException(
          "SHARDKIT_TESTKIT_ENDPOINTS", "no endpoint in '" + spec + "'");
    }
    return out;
  }

  @Override
  public String kind() {
    return "endpoints";
  }

  @Override
  public List<Shard> start(int firstIndex, int count) {
    List<Shard> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int index = firstIndex + i;
      EndpointShard shard = new EndpointShard(index, endpoints.get(index % endpoints.size()));
      if (!Admin.ping(shard.connectOptions(null))) {
        throw new TestShardsException(
            "testkit: cannot log in to " + shard.name() + " (from SHARDKIT_TESTKIT_ENDPOINTS)");
      }
      out.add(shard);
    }
    return out;
  }

  @Override
  public void close() {}

  private static final class EndpointShard extends AbstractShard {

    private final Endpoint endpoint;

    EndpointShard(int index, Endpoint endpoint) {
      super(index);
      this.endpoint = endpoint;
    }

    @Override
    public String name() {
      return "shard-" + index() + " (endpoint " + endpoint.host() + ":" + endpoint.port() + ")";
    }

    @Override
    public String host() {
      return endpoint.host();
    }

    @Override
    public int port() {
      return endpoint.port();
    }

    @Override
    public String user() {
      return endpoint.user();
    }

    @Override
    public String password() {
      return endpoint.password();
    }

    @Override
    public boolean controlsProcess() {
      return false;
    }

    @Override
    public void stop() {
      throw noProcessControl("stop");
    }

    @Override
    public void kill() {
      throw noProcessControl("kill");
    }

    @Override
    public void start() {
      // An endpoint is always started by whoever runs it.
    }

    @Override
    public void pause() {
      throw noProcessControl("pause");
    }

    @Override
    public void resume() {
      // Never paused by the testkit.
    }

    @Override
    public boolean isRunning() {
      return true;
    }

    @Override
    public boolean isPaused() {
      return false;
    }
  }
}
