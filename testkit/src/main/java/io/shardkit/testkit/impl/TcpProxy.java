package io.shardkit.testkit.impl;

import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardProxy;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.mysqlclient.MySQLConnectOptions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A loopback TCP proxy on the testkit's own Vert.x instance. Every chunk is forwarded after the
 * configured latency; chunks leave in the order they arrived because each direction keeps the time
 * its last chunk was released and never schedules a later chunk before it.
 */
final class TcpProxy implements ShardProxy {

  private final Shard shard;
  private final Vertx vertx;
  private final NetServer server;
  private final NetClient client;
  private final Consumer<TcpProxy> onClose;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private volatile long latencyNanos;
  private volatile boolean refuse;
  private volatile boolean frozen;

  private TcpProxy(
      Shard shard, Vertx vertx, NetServer server, NetClient client, Consumer<TcpProxy> onClose) {
    this.shard = shard;
    this.vertx = vertx;
    this.server = server;
    this.client = client;
    this.onClose = onClose;
  }

  static TcpProxy start(Shard shard, Consumer<TcpProxy> onClose) {
    Vertx vertx = TestkitVertx.get();
    NetServer server =
        vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    NetClient client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(5000));
    TcpProxy proxy = new TcpProxy(shard, vertx, server, client, onClose);
    server.connectHandler(proxy::accept);
    Blocking.await(server.listen(), Duration.ofSeconds(30), "proxy listen for " + shard.name());
    return proxy;
  }

  private void accept(NetSocket downstream) {
    if (refuse) {
      downstream.close();
      return;
    }
    downstream.pause();
    client
        .connect(shard.port(), shard.host())
        .onComplete(
            ar -> {
              if (ar.failed()) {
                downstream.close();
                return;
              }
              Link link = new Link(downstream, ar.result());
              links.add(link);
              link.wire();
              if (!frozen) {
                downstream.resume();
              }
            });
  }

  @Override
  public Shard shard() {
    return shard;
  }

  @Override
  public String host() {
    return "127.0.0.1";
  }

  @Override
  public int port() {
    return server.actualPort();
  }

  @Override
  public MySQLConnectOptions connectOptions(String database) {
    return new MySQLConnectOptions(shard.connectOptions(database)).setHost(host()).setPort(port());
  }

  @Override
  public ShardProxy latency(Duration latency) {
    this.latencyNanos = latency.toNanos();
    return this;
  }

  @Override
  public ShardProxy freeze() {
    frozen = true;
    links.forEach(Link::pause);
    return this;
  }

  @Override
  public ShardProxy unfreeze() {
    frozen = false;
    links.forEach(Link::resume);
    return this;
  }

  @Override
  public ShardProxy dropConnections() {
    links.forEach(Link::close);
    return this;
  }

  @Override
  public ShardProxy refuseConnections(boolean refuse) {
    this.refuse = refuse;
    return this;
  }

  @Override
  public int openConnections() {
    return links.size();
  }

  @Override
  public void close() {
    dropConnections();
    Blocking.await(server.close(), Duration.ofSeconds(30), "proxy close");
    client.close();
    onClose.accept(this);
  }

  /** One proxied connection: the client's socket and the shard's. */
  private final class Link {
    private final NetSocket downstream;
    private final NetSocket upstream;
    private final Direction up;
    private final Direction down;

    Link(NetSocket downstream, NetSocket upstream) {
      this.downstream = downstream;
      this.upstream = upstream;
      this.up = new Direction(downstream, upstream);
      this.down = new Direction(upstream, downstream);
    }

    void wire() {
      downstream.handler(up::accept);
      upstream.handler(down::accept);
      downstream.closeHandler(v -> close());
      upstream.closeHandler(v -> close());
      downstream.exceptionHandler(e -> close());
      upstream.exceptionHandler(e -> close());
    }

    void pause() {
      downstream.pause();
      upstream.pause();
    }

    void resume() {
      downstream.resume();
      upstream.resume();
    }

    void close() {
      if (links.remove(this)) {
        downstream.close();
        upstream.close();
      }
    }
  }

  /**
   * One direction of a link. Delayed chunks wait in a FIFO queue drained by a single timer, so they
   * leave in arrival order whatever the latency does meanwhile. Runs on one event loop.
   */
  private final class Direction {
    private final NetSocket from;
    private final NetSocket to;
    private final ArrayDeque<Buffer> queue = new ArrayDeque<>();
    private final ArrayDeque<Long> releaseAt = new ArrayDeque<>();
    private boolean timerSet;

    Direction(NetSocket from, NetSocket to) {
      this.from = from;
      this.to = to;
    }

    void accept(Buffer buffer) {
      long delay = latencyNanos;
      if (delay <= 0 && queue.isEmpty()) {
        write(buffer);
        return;
      }
      queue.add(buffer);
      releaseAt.add(System.nanoTime() + Math.max(0, delay));
      schedule();
    }

    private void schedule() {
      if (timerSet || queue.isEmpty()) {
        return;
      }
      long waitMillis = Math.max(1, (releaseAt.peek() - System.nanoTime() + 999_999) / 1_000_000);
      timerSet = true;
      vertx.setTimer(waitMillis, t -> drain());
    }

    private void drain() {
      timerSet = false;
      long now = System.nanoTime();
      while (!queue.isEmpty() && releaseAt.peek() <= now) {
        releaseAt.poll();
        write(queue.poll());
      }
      schedule();
    }

    private void write(Buffer buffer) {
      to.write(buffer);
      if (to.writeQueueFull()) {
        from.pause();
        to.drainHandler(
            v -> {
              if (!frozen) {
                from.resume();
              }
            });
      }
    }
  }
}
