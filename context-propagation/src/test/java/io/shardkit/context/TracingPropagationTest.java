package io.shardkit.context;

import static io.shardkit.context.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.shardkit.context.junit.LeakGuardExtension;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Spans made inside a scope, a consumer or a gRPC handler are children of the caller's span. */
@SuppressWarnings("try") // try (Scope ignored = span.makeCurrent()) is the OpenTelemetry idiom
@ExtendWith(LeakGuardExtension.class)
class TracingPropagationTest {

  private final List<SpanData> ended = new CopyOnWriteArrayList<>();
  private SdkTracerProvider tracerProvider;
  private OpenTelemetry openTelemetry;
  private Tracer tracer;
  private Vertx vertx;

  @BeforeEach
  void start() {
    tracerProvider =
        SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(new CollectingExporter()))
            .build();
    ContextPropagators propagators =
        ContextPropagators.create(W3CTraceContextPropagator.getInstance());
    openTelemetry =
        new OpenTelemetry() {
          @Override
          public TracerProvider getTracerProvider() {
            return tracerProvider;
          }

          @Override
          public ContextPropagators getPropagators() {
            return propagators;
          }
        };
    tracer = openTelemetry.getTracer("shardkit-test");
    vertx = TestSupport.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    TestSupport.close(vertx);
    tracerProvider.close();
  }

  @Test
  void spansInsideAScopeAreChildrenOfTheCallersSpanAndCarryTheGlobalId() throws Exception {
    Span caller = tracer.spanBuilder("caller").startSpan();
    Future<Void> scope;
    try (Scope ignored = caller.makeCurrent()) {
      scope =
          TxScope.run(
              vertx,
              ScopeOptions.builder().globalId("traced-1").build(),
              () -> {
                // Synchronously in the body, the caller's span is also current.
                tracer.spanBuilder("implicit").startSpan().end();
                Promise<Void> later = Promise.promise();
                vertx.setTimer(
                    5,
                    id -> {
                      TxScope.current()
                          .orElseThrow()
                          .spanBuilder(tracer, "explicit")
                          .startSpan()
                          .end();
                      later.complete();
                    });
                return later.future();
              });
    }
    await(scope);
    caller.end();

    SpanData explicit = span("explicit");
    assertThat(explicit.getParentSpanId()).isEqualTo(caller.getSpanContext().getSpanId());
    assertThat(explicit.getTraceId()).isEqualTo(caller.getSpanContext().getTraceId());
    assertThat(explicit.getAttributes().get(TxContext.GLOBAL_ID_ATTRIBUTE)).isEqualTo("traced-1");
    assertThat(span("implicit").getParentSpanId()).isEqualTo(caller.getSpanContext().getSpanId());
  }

  @Test
  void traceContextCrossesTheEventBus() throws Exception {
    EventBusPropagation propagation = EventBusPropagation.install(vertx, openTelemetry);
    Promise<String> traceparent = Promise.promise();
    vertx
        .eventBus()
        .consumer(
            "traced",
            message -> {
              TxScope.current().orElseThrow().spanBuilder(tracer, "consumer").startSpan().end();
              traceparent.complete(message.headers().get("traceparent"));
            });
    Span caller = tracer.spanBuilder("sender").startSpan();

    try (Scope ignored = caller.makeCurrent()) {
      await(
          TxScope.run(
              vertx,
              ScopeOptions.builder().globalId("traced-eb").build(),
              () -> {
                vertx.eventBus().send("traced", "x");
                return Future.succeededFuture();
              }));
    }
    String actualHeader = await(traceparent.future());
    caller.end();
    propagation.uninstall();

    SpanData consumer = span("consumer");
    assertThat(actualHeader).contains(caller.getSpanContext().getTraceId());
    assertThat(consumer.getTraceId()).isEqualTo(caller.getSpanContext().getTraceId());
    assertThat(consumer.getParentSpanId()).isEqualTo(caller.getSpanContext().getSpanId());
    assertThat(consumer.getAttributes().get(TxContext.GLOBAL_ID_ATTRIBUTE)).isEqualTo("traced-eb");
  }

  @Test
  void traceContextCrossesGrpc() throws Exception {
    GrpcPropagation grpc = GrpcPropagation.create(openTelemetry);
    ServiceName service = ServiceName.create("shardkit.test.Traced");
    GrpcServer grpcServer = GrpcServer.server(vertx, GrpcPropagation.serverOptions());
    grpcServer.callHandler(
        ServiceMethod.server(
            service, "Call", GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY),
        grpc.unary(
            request -> {
              TxScope.current().orElseThrow().spanBuilder(tracer, "handler").startSpan().end();
              return Future.succeededFuture(Buffer.buffer("ok"));
            }));
    HttpServer server =
        await(
            vertx
                .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(grpcServer)
                .listen());
    GrpcClient client = GrpcClient.client(vertx);
    Span caller = tracer.spanBuilder("client").startSpan();

    try (Scope ignored = caller.makeCurrent()) {
      await(
          TxScope.run(
              vertx,
              ScopeOptions.builder().globalId("traced-grpc").build(),
              () ->
                  grpc.call(
                      client,
                      SocketAddress.inetSocketAddress(server.actualPort(), "127.0.0.1"),
                      ServiceMethod.client(
                          service,
                          "Call",
                          GrpcMessageEncoder.IDENTITY,
                          GrpcMessageDecoder.IDENTITY),
                      Buffer.buffer("hi"))));
    }
    caller.end();
    await(client.close());
    await(server.close());

    SpanData handler = span("handler");
    assertThat(handler.getTraceId()).isEqualTo(caller.getSpanContext().getTraceId());
    assertThat(handler.getParentSpanId()).isEqualTo(caller.getSpanContext().getSpanId());
    assertThat(handler.getAttributes().get(TxContext.GLOBAL_ID_ATTRIBUTE)).isEqualTo("traced-grpc");
  }

  private SpanData span(String name) {
    return ended.stream()
        .filter(s -> s.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no ended span named " + name + " in " + ended));
  }

  private final class CollectingExporter implements SpanExporter {
    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      ended.addAll(spans);
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
