package io.shardkit.context;

/**
 * Names of the headers (event bus) and metadata keys (gRPC) that carry a {@link TxContext} between
 * processes. Values are plain ASCII, so they pass through a clustered event bus, HTTP/2 and proxies
 * unchanged. The W3C trace context ({@code traceparent}, {@code tracestate}) travels next to them,
 * written by the configured OpenTelemetry propagator. The routing hint never travels.
 */
public final class PropagationHeaders {

  /** The global transaction id. */
  public static final String GLOBAL_ID = "shardkit-gid";

  /** The branch id, when there is one. */
  public static final String BRANCH_ID = "shardkit-branch";

  /**
   * Event bus only: the sender's remaining time in whole milliseconds, truncated (so never more
   * than the sender had). gRPC uses its standard {@code grpc-timeout} instead.
   */
  public static final String TIMEOUT_MILLIS = "shardkit-timeout-ms";

  /** gRPC's standard timeout metadata ({@link Deadline#toGrpcTimeout()}). */
  public static final String GRPC_TIMEOUT = "grpc-timeout";

  private PropagationHeaders() {}
}
