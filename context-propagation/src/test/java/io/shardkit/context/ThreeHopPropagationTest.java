package io.shardkit.context;

import static io.shardkit.context.TestSupport.await;
import static io.shardkit.context.TestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * verticle → event bus → verticle → gRPC → service → event bus → verticle, each in its own verticle
 * (so on its own event loop), over a real loopback gRPC connection. Every hop records the global id
 * and the time left it sees; the chain returns the records.
 */
@ExtendWith(LeakGuardExtension.class)
class ThreeHopPropagationTest {

  private static final ServiceName SERVICE = ServiceName.create("shardkit.test.Inventory");
  private static final Duration FRONT_TIMEOUT = Duration.ofSeconds(4);

  private Vertx vertx;
  private EventBusPropagation eventBus;
  private final GrpcPropagation grpc = GrpcPropagation.create();

  @BeforeEach
  void deploy() throws Exception {
    vertx = TestSupport.vertx();
    eventBus = EventBusPropagation.install(vertx);
    ServiceVerticle service = new ServiceVerticle();
    await(vertx.deployVerticle(new AuditVerticle()));
    await(vertx.deployVerticle(service));
    await(vertx.deployVerticle(new InventoryVerticle(service.port)));
    await(vertx.deployVerticle(new FrontVerticle()));
  }

  @AfterEach
  void close() throws Exception {
    // Scopes still open (the stalled hops, until their deadlines) can only close while Vert.x
    // runs: give them up to 5 s before closing it. LeakGuardExtension checks afterwards, so a
    // scope that never closes still fails the test; without this wait a busy machine made it
    // force-close scopes on an already closed Vert.x (RejectedExecutionException).
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!TxScope.registry().isIdle() && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    TestSupport.close(vertx);
  }

  @Test
  void globalIdCrossesThreeHopsAndTheDeadlineNeverGrows() throws Exception {
    JsonArray hops = await(vertx.eventBus().<JsonArray>request("front", "go")).body();

    assertThat(hops).hasSize(4);
    JsonObject front = hops.getJsonObject(0);
    String expectedGid = front.getString("gid");
    long previousRemaining = Long.MAX_VALUE;
    for (int i = 0; i < hops.size(); i++) {
      JsonObject hop = hops.getJsonObject(i);
      assertThat(hop.getString("hop"))
          .isEqualTo(new String[] {"front", "inventory", "service", "audit"}[i]);
      assertThat(hop.getString("gid")).as(hop.getString("hop")).isEqualTo(expectedGid);
      long remaining = hop.getLong("remainingNanos");
      assertThat(remaining).as(hop.getString("hop")).isLessThanOrEqualTo(previousRemaining);
      previousRemaining = remaining;
    }
    assertThat(front.getLong("remainingNanos")).isLessThanOrEqualTo(FRONT_TIMEOUT.toNanos());
    assertThat(previousRemaining).isGreaterThan(0);
  }

  @Test
  void aStuckLastHopTimesOutTheWholeChainWithTheTypedError() throws Exception {
    long start = System.nanoTime();

    Throwable actual = awaitFailure(vertx.eventBus().request("front", "stall"));
    Duration waited = Duration.ofNanos(System.nanoTime() - start);

    assertThat(actual).isInstanceOf(ReplyException.class);
    assertThat(((ReplyException) actual).failureCode())
        .isEqualTo(EventBusPropagation.TIMEOUT_FAILURE_CODE);
    assertThat(actual.getMessage()).contains("deadline exceeded");
    assertThat(waited).isGreaterThanOrEqualTo(Duration.ofMillis(350));
    assertThat(waited).isLessThan(Duration.ofSeconds(3));
  }

  private static JsonObject observe(String hop) {
    TxContext tx = TxScope.current().orElseThrow(() -> new AssertionError(hop + ": no context"));
    return new JsonObject()
        .put("hop", hop)
        .put("gid", tx.globalId())
        .put("remainingNanos", tx.deadline().remainingNanos())
        .put("thread", Thread.currentThread().getName());
  }

  /** Starts the transaction and sends it down the chain. */
  private final class FrontVerticle extends VerticleBase {
    @Override
    public Future<?> start() {
      return vertx
          .eventBus()
          .<String>consumer(
              "front",
              EventBusPropagation.scoped(
                  vertx,
                  ScopeOptions.ofTimeout(FRONT_TIMEOUT),
                  message -> {
                    Duration timeout =
                        message.body().equals("stall") ? Duration.ofMillis(400) : FRONT_TIMEOUT;
                    return TxScope.run(
                        vertx,
                        ScopeOptions.ofTimeout(timeout),
                        () ->
                            eventBus
                                .<JsonArray>request(
                                    "inventory",
                                    new JsonObject()
                                        .put("mode", message.body())
                                        .put("hops", new JsonArray().add(observe("front"))))
                                .map(Message::body));
                  }))
          .completion();
    }
  }

  /** A plain event-bus consumer that calls the gRPC service. */
  private final class InventoryVerticle extends VerticleBase {
    private final Promise<Integer> servicePort;
    private GrpcClient client;

    InventoryVerticle(Promise<Integer> servicePort) {
      this.servicePort = servicePort;
    }

    @Override
    public Future<?> start() {
      client = GrpcClient.client(vertx, GrpcPropagation.clientOptions());
      ServiceMethod<Buffer, Buffer> method =
          ServiceMethod.client(
              SERVICE, "Reserve", GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY);
      return vertx
          .eventBus()
          .<JsonObject>consumer(
              "inventory",
              message -> {
                JsonObject request = message.body();
                request.getJsonArray("hops").add(observe("inventory"));
                SocketAddress address =
                    SocketAddress.inetSocketAddress(servicePort.future().result(), "127.0.0.1");
                grpc.call(client, address, method, request.toBuffer())
                    .onSuccess(reply -> message.reply(reply.toJsonArray()))
                    .onFailure(
                        failure ->
                            message.fail(
                                failure instanceof ShardkitTimeoutException
                                    ? EventBusPropagation.TIMEOUT_FAILURE_CODE
                                    : EventBusPropagation.FAILURE_CODE,
                                failure.getMessage()));
              })
          .completion();
    }

    @Override
    public Future<?> stop() {
      return client.close();
    }
  }

  /** A gRPC service that forwards to the audit verticle over the event bus. */
  private final class ServiceVerticle extends VerticleBase {
    final Promise<Integer> port = Promise.promise();
    private HttpServer server;

    @Override
    public Future<?> start() {
      GrpcServer grpcServer = GrpcServer.server(vertx, GrpcPropagation.serverOptions());
      grpcServer.callHandler(
          ServiceMethod.server(
              SERVICE, "Reserve", GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY),
          grpc.unary(
              body -> {
                JsonObject request = body.toJsonObject();
                request.getJsonArray("hops").add(observe("service"));
                return eventBus
                    .<JsonArray>request("audit", request)
                    .map(reply -> reply.body().toBuffer());
              }));
      return vertx
          .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
          .requestHandler(grpcServer)
          .listen()
          .onSuccess(s -> server = s)
          .onSuccess(s -> port.complete(s.actualPort()));
    }

    @Override
    public Future<?> stop() {
      return server.close();
    }
  }

  /** The last hop: a scoped consumer that can stall. */
  private static final class AuditVerticle extends VerticleBase {
    @Override
    public Future<?> start() {
      return vertx
          .eventBus()
          .<JsonObject>consumer(
              "audit",
              EventBusPropagation.scoped(
                  vertx,
                  message -> {
                    JsonArray hops = message.body().getJsonArray("hops").add(observe("audit"));
                    if (message.body().getString("mode").equals("stall")) {
                      return Promise.promise().future();
                    }
                    return Future.succeededFuture(hops);
                  }))
          .completion();
    }
  }
}
