package io.shardkit.context;

import static io.shardkit.context.TestSupport.await;
import static io.shardkit.context.TestSupport.awaitFailure;
import static io.shardkit.context.TestSupport.never;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A real Vert.x gRPC server and client on loopback, with raw JSON buffers (no protoc). */
@ExtendWith(LeakGuardExtension.class)
class GrpcPropagationTest {

  private static final ServiceName SERVICE = ServiceName.create("shardkit.test.Probe");

  private Vertx vertx;
  private HttpServer httpServer;
  private GrpcClient client;
  private SocketAddress address;
  private final GrpcPropagation grpc = GrpcPropagation.create();
  private final AtomicInteger calls = new AtomicInteger();
  private final AtomicInteger stuckReleases = new AtomicInteger();
  private final AtomicReference<TxContext> rawSeen = new AtomicReference<>();

  @BeforeEach
  void start() throws Exception {
    vertx = TestSupport.vertx();
    GrpcServer server = GrpcServer.server(vertx, GrpcPropagation.serverOptions());
    server.callHandler(serverMethod("Probe"), grpc.unary(request -> probe()));
    server.callHandler(
        serverMethod("Stuck"),
        grpc.unary(
            request -> {
              calls.incrementAndGet();
              TxScope.pin(
                  "connection",
                  () -> {
                    stuckReleases.incrementAndGet();
                    return Future.succeededFuture();
                  });
              return never();
            }));
    server.callHandler(
        serverMethod("Raw"),
        grpc.server(
            request -> {
              rawSeen.set(TxScope.current().orElse(null));
              request
                  .last()
                  .onSuccess(
                      body ->
                          TxScope.run(vertx, () -> probe())
                              .onComplete(ar -> request.response().end(ar.result())));
            }));
    httpServer =
        await(
            vertx
                .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(server)
                .listen());
    address = SocketAddress.inetSocketAddress(httpServer.actualPort(), "127.0.0.1");
    client = GrpcClient.client(vertx, GrpcPropagation.clientOptions());
  }

  @AfterEach
  void stop() throws Exception {
    await(client.close());
    await(httpServer.close());
    TestSupport.close(vertx);
  }

  private Future<Buffer> probe() {
    calls.incrementAndGet();
    TxContext tx = TxScope.current().orElseThrow();
    return Future.succeededFuture(
        new JsonObject()
            .put("gid", tx.globalId())
            .put("branch", tx.branchId().orElse(null))
            .put("remainingNanos", tx.deadline().remainingNanos())
            .toBuffer());
  }

  private static ServiceMethod<Buffer, Buffer> serverMethod(String name) {
    return ServiceMethod.server(
        SERVICE, name, GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY);
  }

  private static ServiceMethod<Buffer, Buffer> clientMethod(String name) {
    return ServiceMethod.client(
        SERVICE, name, GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY);
  }

  private Future<JsonObject> call(String method) {
    return grpc.call(client, address, clientMethod(method), Buffer.buffer("{}"))
        .map(Buffer::toJsonObject);
  }

  @Test
  void unaryHandlerRunsUnderTheCallersIdWithNoMoreTime() throws Exception {
    AtomicReference<Long> callerRemaining = new AtomicReference<>();

    JsonObject actual =
        await(
            TxScope.run(
                vertx,
                ScopeOptions.builder()
                    .globalId("grpc-1")
                    .branchId("ds_3")
                    .timeout(Duration.ofSeconds(3))
                    .build(),
                () -> {
                  callerRemaining.set(TxScope.current().orElseThrow().deadline().remainingNanos());
                  return call("Probe");
                }));

    assertThat(actual.getString("gid")).isEqualTo("grpc-1");
    assertThat(actual.getString("branch")).isEqualTo("ds_3");
    assertThat(actual.getLong("remainingNanos")).isLessThanOrEqualTo(callerRemaining.get());
    assertThat(actual.getLong("remainingNanos")).isGreaterThan(TimeUnit.SECONDS.toNanos(2));
  }

  @Test
  void plainHandlerWrapperInstallsTheContextOnTheRequest() throws Exception {
    JsonObject actual =
        await(
            TxScope.run(
                vertx, ScopeOptions.builder().globalId("raw-1").build(), () -> call("Raw")));

    assertThat(rawSeen.get().globalId()).isEqualTo("raw-1");
    assertThat(actual.getString("gid")).isEqualTo("raw-1");
  }

  @Test
  void callOutsideAnyScopeGetsANewTransactionBoundedByTheCallTimeout() throws Exception {
    JsonObject withoutTimeout =
        await(
            client
                .request(address, clientMethod("Probe"))
                .compose(request -> request.send(Buffer.buffer("{}")))
                .compose(response -> response.last())
                .map(Buffer::toJsonObject));
    JsonObject withTimeout =
        await(
            client
                .request(address, clientMethod("Probe"))
                .compose(request -> request.timeout(2, TimeUnit.SECONDS).send(Buffer.buffer("{}")))
                .compose(response -> response.last())
                .map(Buffer::toJsonObject));

    assertThat(TxContext.isValidId(withoutTimeout.getString("gid"))).isTrue();
    assertThat(withoutTimeout.getLong("remainingNanos"))
        .isGreaterThan(ScopeOptions.DEFAULT_TIMEOUT.minusSeconds(5).toNanos());
    assertThat(withTimeout.getString("gid")).isNotEqualTo(withoutTimeout.getString("gid"));
    assertThat(withTimeout.getLong("remainingNanos"))
        .isLessThanOrEqualTo(TimeUnit.SECONDS.toNanos(2));
  }

  @Test
  void handlerThatNeverCompletesFailsTheCallerAtTheDeadlineWithTheTypedError() throws Exception {
    Duration expectedTimeout = Duration.ofMillis(300);
    long start = System.nanoTime();

    Throwable actual =
        awaitFailure(
            TxScope.run(
                vertx,
                ScopeOptions.builder().globalId("grpc-stuck").timeout(expectedTimeout).build(),
                () -> call("Stuck")));
    Duration waited = Duration.ofNanos(System.nanoTime() - start);

    assertThat(actual).isInstanceOf(ShardkitTimeoutException.class);
    assertThat(((ShardkitTimeoutException) actual).globalId()).isEqualTo("grpc-stuck");
    assertThat(waited).isGreaterThanOrEqualTo(expectedTimeout.minusMillis(20));
    assertThat(waited).isLessThan(Duration.ofSeconds(5));
    assertThat(calls).hasValue(1);
    new LeakGuardExtension().check("after the stuck call");
    assertThat(stuckReleases).hasValue(1);
  }

  @Test
  void callWithNoTimeLeftIsNotSent() throws Exception {
    Promise<Throwable> lateCall = Promise.promise();

    awaitFailure(
        TxScope.run(
            vertx,
            ScopeOptions.builder().globalId("grpc-late").timeout(Duration.ofMillis(20)).build(),
            () -> {
              vertx.setTimer(
                  60,
                  id ->
                      call("Probe")
                          .onComplete(ar -> lateCall.complete(ar.failed() ? ar.cause() : null)));
              return never();
            }));
    Throwable actual = await(lateCall.future());
    int callsAfterLateCall = calls.get();
    await(call("Probe"));

    assertThat(actual)
        .isInstanceOf(ShardkitTimeoutException.class)
        .hasMessageContaining("grpc-late");
    assertThat(callsAfterLateCall).isZero();
    assertThat(calls).hasValue(1);
  }
}
