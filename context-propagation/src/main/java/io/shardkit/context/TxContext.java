package io.shardkit.context;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import java.util.Objects;
import java.util.Optional;

/**
 * The transaction context of one unit of work: who it is (global id, branch id), how long it may
 * run ({@link Deadline}), how its statements should be routed ({@link RoutingHint}) and which trace
 * it belongs to (an OpenTelemetry {@link io.opentelemetry.context.Context}).
 *
 * <p>A {@code TxContext} is an immutable value. The current one is read with {@link
 * TxScope#current()}; it lives on the Vert.x duplicated context of the scope that {@link
 * TxScope#run} opened (or that an event-bus or gRPC hop restored), never in a {@code ThreadLocal}.
 * To run work under a different context (another branch, a routing hint), open a nested scope with
 * the matching {@link ScopeOptions}; the {@code with...} methods build values, they do not change
 * the current context.
 *
 * <p>The global id is ASCII, at most 64 characters of {@code [A-Za-z0-9._:-]}, usable as an XA
 * gtrid. The branch id has the same shape and may be absent.
 */
public final class TxContext {

  /** Span attribute carrying the global id: {@code shardkit.gid}. */
  public static final AttributeKey<String> GLOBAL_ID_ATTRIBUTE =
      AttributeKey.stringKey("shardkit.gid");

  /** Span attribute carrying the branch id when there is one: {@code shardkit.branch}. */
  public static final AttributeKey<String> BRANCH_ID_ATTRIBUTE =
      AttributeKey.stringKey("shardkit.branch");

  private final String globalId;
  private final String branchId;
  private final Deadline deadline;
  private final RoutingHint routingHint;
  private final io.opentelemetry.context.Context traceContext;

  private TxContext(
      String globalId,
      String branchId,
      Deadline deadline,
      RoutingHint routingHint,
      io.opentelemetry.context.Context traceContext) {
    this.globalId = globalId;
    this.branchId = branchId;
    this.deadline = deadline;
    this.routingHint = routingHint;
    this.traceContext = traceContext;
  }

  /**
   * A context with the given global id and deadline, no branch, no routing hint and no trace.
   *
   * @throws ConfigurationException if the global id is not a valid id
   */
  public static TxContext of(String globalId, Deadline deadline) {
    return new TxContext(
        checkId("globalId", globalId),
        null,
        Objects.requireNonNull(deadline, "deadline"),
        null,
        io.opentelemetry.context.Context.root());
  }

  /**
   * A context with every field given.
   *
   * @param globalId the global id; must be valid
   * @param branchId the branch id, or null; must be valid when given
   * @param deadline the deadline
   * @param routingHint the routing hint, or null
   * @param traceContext the caller's OpenTelemetry context, or null for none
   * @throws ConfigurationException if an id is not valid
   */
  public static TxContext of(
      String globalId,
      String branchId,
      Deadline deadline,
      RoutingHint routingHint,
      io.opentelemetry.context.Context traceContext) {
    return new TxContext(
        checkId("globalId", globalId),
        branchId == null ? null : checkId("branchId", branchId),
        Objects.requireNonNull(deadline, "deadline"),
        routingHint,
        traceContext == null ? io.opentelemetry.context.Context.root() : traceContext);
  }

  /** A fresh global id: 26 ASCII characters, unique across processes, sortable by creation time. */
  public static String newGlobalId() {
    return GlobalIds.next();
  }

  /** Whether {@code id} is acceptable as a global or branch id. */
  public static boolean isValidId(String id) {
    return GlobalIds.problem(id) == null;
  }

  /** The global transaction id; never null. */
  public String globalId() {
    return globalId;
  }

  /** The branch id, when the work is one branch of the global transaction. */
  public Optional<String> branchId() {
    return Optional.ofNullable(branchId);
  }

  /** The deadline; never null (there is no "no timeout"). */
  public Deadline deadline() {
    return deadline;
  }

  /** The routing hint, when the caller gave one. */
  public Optional<RoutingHint> routingHint() {
    return Optional.ofNullable(routingHint);
  }

  /**
   * The OpenTelemetry context of the caller: the span the work was started under (possibly a remote
   * span restored from W3C headers), plus baggage. {@link io.opentelemetry.context.Context#root()}
   * when there is no trace.
   */
  public io.opentelemetry.context.Context traceContext() {
    return traceContext;
  }

  /** The caller's span context; invalid when there is no trace. */
  public SpanContext spanContext() {
    return Span.fromContext(traceContext).getSpanContext();
  }

  /**
   * A span builder for work done in this context: parented on the caller's span ({@link
   * #traceContext()}) and carrying the {@code shardkit.gid} (and {@code shardkit.branch})
   * attributes. The caller starts and ends the span.
   */
  public SpanBuilder spanBuilder(Tracer tracer, String spanName) {
    SpanBuilder builder =
        tracer
            .spanBuilder(spanName)
            .setParent(traceContext)
            .setAttribute(GLOBAL_ID_ATTRIBUTE, globalId);
    if (branchId != null) {
      builder.setAttribute(BRANCH_ID_ATTRIBUTE, branchId);
    }
    return builder;
  }

  /**
   * A copy with another global id.
   *
   * @throws ConfigurationException if the id is not valid
   */
  public TxContext withGlobalId(String globalId) {
    return new TxContext(
        checkId("globalId", globalId), branchId, deadline, routingHint, traceContext);
  }

  /**
   * A copy with another branch id, or none when {@code branchId} is null.
   *
   * @throws ConfigurationException if the id is not valid
   */
  public TxContext withBranchId(String branchId) {
    return new TxContext(
        globalId,
        branchId == null ? null : checkId("branchId", branchId),
        deadline,
        routingHint,
        traceContext);
  }

  /** A copy with another deadline. */
  public TxContext withDeadline(Deadline deadline) {
    return new TxContext(
        globalId,
        branchId,
        Objects.requireNonNull(deadline, "deadline"),
        routingHint,
        traceContext);
  }

  /** A copy with another routing hint, or none when {@code routingHint} is null. */
  public TxContext withRoutingHint(RoutingHint routingHint) {
    return new TxContext(globalId, branchId, deadline, routingHint, traceContext);
  }

  /** A copy linked to another trace context ({@code null} means none). */
  public TxContext withTraceContext(io.opentelemetry.context.Context traceContext) {
    return new TxContext(
        globalId,
        branchId,
        deadline,
        routingHint,
        traceContext == null ? io.opentelemetry.context.Context.root() : traceContext);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TxContext other
        && globalId.equals(other.globalId)
        && Objects.equals(branchId, other.branchId)
        && deadline.equals(other.deadline)
        && Objects.equals(routingHint, other.routingHint)
        && traceContext.equals(other.traceContext);
  }

  @Override
  public int hashCode() {
    return Objects.hash(globalId, branchId, deadline, routingHint, traceContext);
  }

  @Override
  public String toString() {
    return "TxContext[gid="
        + globalId
        + (branchId != null ? ", branch=" + branchId : "")
        + ", "
        + deadline
        + (routingHint != null ? ", " + routingHint : "")
        + "]";
  }

  static String checkId(String field, String id) {
    String problem = GlobalIds.problem(id);
    if (problem != null) {
      throw new ConfigurationException(field, problem);
    }
    return id;
  }
}
