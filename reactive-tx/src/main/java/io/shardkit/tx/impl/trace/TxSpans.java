package io.shardkit.tx.impl.trace;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Spans of transactions: one per transaction ({@code shardkit.tx <mode>}), made current while its
 * scope opens so that the scope's trace context, and so every statement span of the work and every
 * event-bus or gRPC hop made inside, sits under it; and one per phase ({@code shardkit.tx <mode>
 * <phase>}), recorded when the phase ends with its real start time. The global id is an attribute
 * of each.
 *
 * <p>Why phases are recorded after the fact: the coordinator already times every phase for the
 * meters; a span made from the same start and end needs no second bookkeeping in the state machine.
 */
public final class TxSpans {

  public static final AttributeKey<String> MODE = AttributeKey.stringKey("shardkit.tx.mode");
  public static final AttributeKey<String> PHASE = AttributeKey.stringKey("shardkit.tx.phase");
  public static final AttributeKey<String> RESULT = AttributeKey.stringKey("shardkit.tx.result");
  public static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("shardkit.tx.outcome");
  public static final AttributeKey<String> SHARD = AttributeKey.stringKey("shardkit.shard");

  private final Tracer tracer;
  private final Map<String, Span> open = new ConcurrentHashMap<>();

  public TxSpans(OpenTelemetry openTelemetry) {
    this.tracer = openTelemetry.getTracer("io.shardkit.tx");
  }

  /** Starts a transaction span: parent is the current span, else the current scope's trace. */
  public Span start(String mode) {
    return tracer
        .spanBuilder("shardkit.tx " + mode)
        .setParent(parent())
        .setSpanKind(SpanKind.INTERNAL)
        .setAttribute(MODE, mode)
        .startSpan();
  }

  /** The transaction got its global id: phases of {@code gid} become children of {@code span}. */
  public void bind(String gid, Span span) {
    span.setAttribute(TxContext.GLOBAL_ID_ATTRIBUTE, gid);
    if (span.isRecording()) {
      open.put(gid, span);
    }
  }

  /** The open span of transaction {@code gid} started here, or null. */
  public Span span(String gid) {
    return gid == null ? null : open.get(gid);
  }

  /**
   * A participant joined transaction {@code gid}: an event {@code shardkit.tx.participant} on its
   * span with the snapshot (protocol, data source, branch id, isolation level, time joined).
   */
  public void participant(String gid, io.shardkit.tx.Participant p) {
    Span span = p == null ? null : open.get(gid);
    if (span == null || !span.isRecording()) {
      return;
    }
    io.opentelemetry.api.common.AttributesBuilder a =
        io.opentelemetry.api.common.Attributes.builder()
            .put("shardkit.participant.protocol", p.protocol())
            .put("shardkit.participant.data_source", p.dataSource())
            .put("shardkit.participant.branch_id", p.branchId())
            .put("shardkit.participant.joined_at", p.joinedAt().toString());
    if (p.isolationLevel() != null) {
      a.put("shardkit.participant.isolation_level", p.isolationLevel());
    }
    span.addEvent("shardkit.tx.participant", a.build());
  }

  /** Ends a transaction span with its outcome; {@code failure} null when it committed. */
  public void end(String gid, Span span, String outcome, Throwable failure) {
    if (gid != null) {
      open.remove(gid);
    }
    if (!span.isRecording()) {
      return;
    }
    span.setAttribute(OUTCOME, outcome);
    if (failure != null) {
      span.recordException(failure);
      span.setStatus(StatusCode.ERROR, failure.getClass().getSimpleName());
    }
    span.end();
  }

  /**
   * Records a finished phase of {@code gid} that started at {@code startNanos} ({@code
   * System.nanoTime()}); under the transaction's span when this instance started it, else under the
   * current scope's trace (a participant serving a remote coordinator).
   */
  public void phase(
      String mode, String gid, String phase, long startNanos, String result, boolean ok) {
    Span parent = open.get(gid);
    Context parentContext;
    if (parent != null) {
      parentContext = Context.root().with(parent);
    } else {
      parentContext = parent();
      if (!Span.fromContext(parentContext).getSpanContext().isValid()) {
        return; // no trace to add to
      }
    }
    long now = System.nanoTime();
    Instant end = Instant.now();
    long endEpochNanos = TimeUnit.SECONDS.toNanos(end.getEpochSecond()) + end.getNano();
    Span span =
        tracer
            .spanBuilder("shardkit.tx " + mode + " " + phase)
            .setParent(parentContext)
            .setSpanKind(SpanKind.INTERNAL)
            .setStartTimestamp(endEpochNanos - (now - startNanos), TimeUnit.NANOSECONDS)
            .setAttribute(MODE, mode)
            .setAttribute(PHASE, phase)
            .setAttribute(RESULT, result)
            .setAttribute(TxContext.GLOBAL_ID_ATTRIBUTE, gid)
            .startSpan();
    if (!ok) {
      span.setStatus(StatusCode.ERROR);
    }
    span.end(endEpochNanos, TimeUnit.NANOSECONDS);
  }

  private static Context parent() {
    Context current = Context.current();
    if (Span.fromContext(current).getSpanContext().isValid()) {
      return current;
    }
    Optional<TxContext> tx = TxScope.current();
    return tx.isPresent() ? tx.get().traceContext() : current;
  }
}
