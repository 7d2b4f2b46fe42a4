package io.shardkit.context.impl;

import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.vertx.core.MultiMap;

/**
 * Writes and reads the trace context to and from headers with the user's OpenTelemetry propagator.
 *
 * <p>Why lazy: without an explicit {@link OpenTelemetry}, the propagator comes from {@link
 * GlobalOpenTelemetry}, whose first {@code get()} freezes the global (a later {@code set()} by the
 * application would throw). So the global is consulted only when there is something to propagate: a
 * context that holds a span or baggage on the way out, trace headers on the way in.
 */
final class Tracing {

  private static final TextMapSetter<MultiMap> SETTER = MultiMap::set;

  private static final TextMapGetter<MultiMap> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(MultiMap carrier) {
          return carrier.names();
        }

        @Override
        public String get(MultiMap carrier, String key) {
          return carrier == null ? null : carrier.get(key);
        }
      };

  private final OpenTelemetry openTelemetry;

  /**
   * @param openTelemetry the instance whose propagator to use, or null for the global one
   */
  Tracing(OpenTelemetry openTelemetry) {
    this.openTelemetry = openTelemetry;
  }

  private TextMapPropagator propagator() {
    return openTelemetry != null
        ? openTelemetry.getPropagators().getTextMapPropagator()
        : GlobalOpenTelemetry.getPropagators().getTextMapPropagator();
  }

  void inject(io.opentelemetry.context.Context traceContext, MultiMap headers) {
    if (traceContext != io.opentelemetry.context.Context.root()) {
      propagator().inject(traceContext, headers, SETTER);
    }
  }

  io.opentelemetry.context.Context extract(MultiMap headers) {
    if (openTelemetry == null
        && !headers.contains("traceparent")
        && !headers.contains("baggage")
        && !headers.contains("b3")
        && !headers.contains("x-b3-traceid")) {
      return io.opentelemetry.context.Context.root();
    }
    return propagator().extract(io.opentelemetry.context.Context.root(), headers, GETTER);
  }

  /** Makes {@code traceContext} current on this thread; null (nothing to close) for the root. */
  static io.opentelemetry.context.Scope makeCurrent(io.opentelemetry.context.Context traceContext) {
    return traceContext == io.opentelemetry.context.Context.root()
        ? null
        : traceContext.makeCurrent();
  }
}
