package io.shardkit.testkit.impl;

import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardProxy;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** What every kind of shard shares: connect options, admin SQL and proxies. */
abstract class AbstractShard implements Shard {

  private final int index;
  private final List<TcpProxy> proxies = new CopyOnWriteArrayList<>();

  AbstractShard(int index) {
    this.index = index;
  }

  @Override
  public int index() {
    return index;
  }

  @Override
  public MySQLConnectOptions connectOptions(String database) {
    MySQLConnectOptions options =
        new MySQLConnectOptions()
            .setHost(host())
            .setPort(port())
            .setUser(user())
            .setPassword(password());
    if (database != null) {
      options.setDatabase(database);
    }
    return options;
  }

  @Override
  public ShardProxy openProxy() {
    TcpProxy proxy = TcpProxy.start(this, proxies::remove);
    proxies.add(proxy);
    return proxy;
  }

  @Override
  public void execute(String database, String... sql) {
    Admin.execute(connectOptions(database), sql);
  }

  @Override
  public List<JsonObject> query(String database, String sql) {
    return Admin.query(connectOptions(database), sql);
  }

  void closeProxies() {
    for (TcpProxy proxy : proxies) {
      proxy.close();
    }
  }

  UnsupportedOperationException noProcessControl(String fault) {
    return new UnsupportedOperationException(
        "testkit: "
            + name()
            + " is an external endpoint; "
            + fault
            + " needs a shard whose process the testkit owns (embedded MariaDB or"
            + " Testcontainers). Use openProxy() for network faults.");
  }

  @Override
  public String toString() {
    return name();
  }
}
