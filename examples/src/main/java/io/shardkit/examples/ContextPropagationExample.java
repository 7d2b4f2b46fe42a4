package io.shardkit.examples;

import io.shardkit.context.EventBusPropagation;
import io.shardkit.context.GrpcPropagation;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
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

/**
 * A global transaction id and its deadline crossing an event-bus hop and a gRPC call.
 *
 * <p>Four verticles: {@code orders} opens a scope (10 s) and asks {@code inventory} over the event
 * bus; {@code inventory} calls the {@code Payments} gRPC service on loopback; the service asks
 * {@code audit} over the event bus. Each hop prints the id and the time it has left, read with
 * {@link TxScope#current()}: the same id everywhere, and less time at every hop. No database is
 * needed.
 *
 * <p>Run it with {@code mvn -B -ntp -pl examples -am compile exec:java
 * -Dexec.mainClass=io.shardkit.examples.ContextPropagationExample} (see the module's README).
 */
public final class ContextPropagationExample {

  private static final ServiceName PAYMENTS = ServiceName.create("shardkit.example.Payments");
  private static final String CHARGE = "Charge";

  private ContextPropagationExample() {}

  public static void main(String[] args) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      JsonArray trail =
          run(vertx).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      for (int i = 0; i < trail.size(); i++) {
        JsonObject hop = trail.getJsonObject(i);
        System.out.printf(
            "%-10s gid=%s  time left=%4d ms  on %s%n",
            hop.getString("hop"),
            hop.getString("gid"),
            hop.getLong("timeLeftMs"),
            hop.getString("thread"));
      }
      System.out.println("open scopes after the run: " + TxScope.registry().describe());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** Deploys the four verticles, places one order and returns what each hop saw, in order. */
  public static Future<JsonArray> run(Vertx vertx) {
    // One call per Vertx: event-bus messages now carry the context in their headers.
    EventBusPropagation eventBus = EventBusPropagation.install(vertx);
    GrpcPropagation grpc = GrpcPropagation.create();
    PaymentsVerticle payments = new PaymentsVerticle(eventBus, grpc);
    return vertx
        .deployVerticle(new AuditVerticle())
        .compose(id -> vertx.deployVerticle(payments))
        .compose(id -> vertx.deployVerticle(new InventoryVerticle(grpc, payments)))
        .compose(id -> vertx.deployVerticle(new OrdersVerticle(eventBus)))
        .compose(id -> vertx.eventBus().<JsonArray>request("orders.place", "order-1001"))
        .map(Message::body);
  }

  /** What the current hop sees: its name, the global id, the time left, the thread. */
  static JsonObject observe(String hop) {
    TxContext tx =
        TxScope.current().orElseThrow(() -> new IllegalStateException(hop + ": no context"));
    return new JsonObject()
        .put("hop", hop)
        .put("gid", tx.globalId())
        .put("timeLeftMs", tx.deadline().remainingMillis())
        .put("thread", Thread.currentThread().getName());
  }

  /** Opens the transaction: a scope with a 10 second deadline, then asks inventory. */
  static final class OrdersVerticle extends VerticleBase {
    private final EventBusPropagation eventBus;

    OrdersVerticle(EventBusPropagation eventBus) {
      this.eventBus = eventBus;
    }

    @Override
    public Future<?> start() {
      return vertx
          .eventBus()
          .<String>consumer(
              "orders.place",
              message ->
                  TxScope.run(
                          vertx,
                          ScopeOptions.ofTimeout(Duration.ofSeconds(10)),
                          () -> {
                            JsonArray trail = new JsonArray().add(observe("orders"));
                            // request() waits for the reply no longer than the time left.
                            return eventBus
                                .<JsonArray>request(
                                    "inventory.reserve",
                                    new JsonObject()
                                        .put("order", message.body())
                                        .put("trail", trail))
                                .map(Message::body);
                          })
                      .onComplete(
                          outcome -> {
                            if (outcome.succeeded()) {
                              message.reply(outcome.result());
                            } else {
                              message.fail(500, outcome.cause().getMessage());
                            }
                          }))
          .completion();
    }
  }

  /** A plain event-bus consumer: the context arrived with the message; calls gRPC with it. */
  static final class InventoryVerticle extends VerticleBase {
    private final GrpcPropagation grpc;
    private final PaymentsVerticle payments;
    private GrpcClient client;

    InventoryVerticle(GrpcPropagation grpc, PaymentsVerticle payments) {
      this.grpc = grpc;
      this.payments = payments;
    }

    @Override
    public Future<?> start() {
      client = GrpcClient.client(vertx, GrpcPropagation.clientOptions());
      ServiceMethod<Buffer, Buffer> charge =
          ServiceMethod.client(
              PAYMENTS, CHARGE, GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY);
      return vertx
          .eventBus()
          .<JsonObject>consumer(
              "inventory.reserve",
              message -> {
                JsonObject request = message.body();
                request.getJsonArray("trail").add(observe("inventory"));
                // call() sends shardkit-gid and grpc-timeout = the time left.
                grpc.call(client, payments.address(), charge, request.toBuffer())
                    .onSuccess(reply -> message.reply(reply.toJsonArray()))
                    .onFailure(failure -> message.fail(500, failure.getMessage()));
              })
          .completion();
    }

    @Override
    public Future<?> stop() {
      return client.close();
    }
  }

  /** A gRPC service on loopback; its handler runs in a scope under the caller's context. */
  static final class PaymentsVerticle extends VerticleBase {
    private final EventBusPropagation eventBus;
    private final GrpcPropagation grpc;
    private HttpServer server;

    PaymentsVerticle(EventBusPropagation eventBus, GrpcPropagation grpc) {
      this.eventBus = eventBus;
      this.grpc = grpc;
    }

    SocketAddress address() {
      return SocketAddress.inetSocketAddress(server.actualPort(), "127.0.0.1");
    }

    @Override
    public Future<?> start() {
      GrpcServer grpcServer = GrpcServer.server(vertx, GrpcPropagation.serverOptions());
      grpcServer.callHandler(
          ServiceMethod.server(
              PAYMENTS, CHARGE, GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY),
          grpc.unary(
              body -> {
                JsonObject request = body.toJsonObject();
                request.getJsonArray("trail").add(observe("payments"));
                return eventBus
                    .<JsonArray>request("audit.record", request)
                    .map(reply -> reply.body().toBuffer());
              }));
      return vertx
          .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
          .requestHandler(grpcServer)
          .listen()
          .onSuccess(listening -> server = listening);
    }

    @Override
    public Future<?> stop() {
      return server.close();
    }
  }

  /** The last hop: a consumer run in a scope nested in the message's context. */
  static final class AuditVerticle extends VerticleBase {
    @Override
    public Future<?> start() {
      return vertx
          .eventBus()
          .<JsonObject>consumer(
              "audit.record",
              EventBusPropagation.scoped(
                  vertx,
                  message ->
                      Future.succeededFuture(
                          message.body().getJsonArray("trail").add(observe("audit")))))
          .completion();
    }
  }
}
