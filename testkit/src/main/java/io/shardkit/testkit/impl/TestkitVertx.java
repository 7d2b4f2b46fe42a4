package io.shardkit.testkit.impl;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.impl.VertxThread;
import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The testkit's own Vert.x instance, for admin connections and proxies; never the test's.
 *
 * <p>Its threads are daemon threads: a program that uses the JVM-wide shards ({@code
 * TestShards.get}) and returns from {@code main} must end, and the shutdown hook that stops the
 * shards only runs once every non-daemon thread has ended.
 */
public final class TestkitVertx {

  private static Vertx vertx;

  private TestkitVertx() {}

  public static synchronized Vertx get() {
    if (vertx == null) {
      vertx =
          VertxBootstrap.create()
              .options(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(4))
              .threadFactory(new DaemonThreads())
              .init()
              .vertx();
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

  private static final class DaemonThreads implements VertxThreadFactory {
    @Override
    public VertxThread newVertxThread(
        Runnable target, String name, boolean worker, long maxExecTime, TimeUnit maxExecTimeUnit) {
      VertxThread thread =
          VertxThreadFactory.INSTANCE.newVertxThread(
              target, "shardkit-testkit-" + name, worker, maxExecTime, maxExecTimeUnit);
      thread.setDaemon(true);
      return thread;
    }
  }
}
