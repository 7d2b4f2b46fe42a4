package io.shardkit.testkit.impl;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/** The testkit's own Vert.x instance, for admin connections and proxies; never the test's. */
public final class TestkitVertx {

  private static Vertx vertx;

  private TestkitVertx() {}

  public static synchronized Vertx get() {
    if (vertx == null) {
      vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(4));
    }
    return vertx;
  }

  public static synchronized void close() {
    if (vertx != null) {
      Vertx v = vertx;
      vertx = null;
      v.close();
    }
  }
}
