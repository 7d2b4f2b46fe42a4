package io.shardkit.benchmarks;

import io.shardkit.context.EventBusPropagation;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the transaction context costs, next to the database round trip it accompanies (hundreds of
 * microseconds on loopback).
 *
 * <p>Work runs where it runs in production, on an event loop: each invocation hands one task to a
 * Vert.x context that does {@value #BATCH} operations and reports back, so the hop from the JMH
 * thread is shared by the batch. {@code *Baseline} measures the same loop without the context (the
 * hop included), so the difference is the context's cost.
 *
 * <ul>
 *   <li>{@code scope*}: open and close a scope whose body completes at once ({@code TxScope.run}:
 *       duplicated context, deadline timer set and cancelled, registry), top-level and nested; and
 *       a {@code TxScope.current()} lookup.
 *   <li>{@code eventBus*}: local event-bus send (consumer counts) and request/reply, plain (no
 *       interceptors, no scope) versus propagated (interceptors installed, sent from a scope, so
 *       headers are written and the consumer's context restored).
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar ContextBenchmark -f 1 -wi 2 -i 3}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ContextBenchmark {

  static final int BATCH = 1_000;

  private static final ScopeOptions OPTIONS = ScopeOptions.ofTimeout(Duration.ofSeconds(30));

  /** A Vert.x instance without propagation, with a consumer on {@code bench.send/request}. */
  @State(Scope.Benchmark)
  public static class PlainVertx {
    Vertx vertx;
    Context context;
    Counter counter;

    @Setup(Level.Trial)
    public void start() {
      vertx = Vertx.vertx();
      context = vertx.getOrCreateContext();
      counter = new Counter();
      EventBus eventBus = vertx.eventBus();
      eventBus.consumer("bench.send", message -> counter.received());
      eventBus.consumer("bench.request", message -> message.reply(message.body()));
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** The same, with {@link EventBusPropagation} installed. */
  @State(Scope.Benchmark)
  public static class PropagatingVertx extends PlainVertx {
    @Override
    @Setup(Level.Trial)
    public void start() {
      super.start();
      EventBusPropagation.install(vertx);
    }
  }

  /** Counts deliveries of one batch of sends; touched on the consumer's event loop only. */
  static final class Counter {
    private int expected;
    private int received;
    private CompletableFuture<Void> done;

    CompletableFuture<Void> expect(int count) {
      done = new CompletableFuture<>();
      expected = count;
      received = 0;
      return done;
    }

    void received() {
      if (++received == expected) {
        done.complete(null);
      }
    }
  }

  /** Runs {@code batch} on {@code context} and waits for the future it returns. */
  private static <T> T onContext(Context context, Supplier<Future<T>> batch) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(
        v ->
            batch
                .get()
                .onComplete(
                    ar -> {
                      if (ar.succeeded()) {
                        result.complete(ar.result());
                      } else {
                        result.completeExceptionally(ar.cause());
                      }
                    }));
    return result.get(30, TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public Object scopeBaseline(PlainVertx state) throws Exception {
    return onContext(
        state.context,
        () -> {
          Future<Object> last = Future.succeededFuture();
          for (int i = 0; i < BATCH; i++) {
            last = Future.succeededFuture(i);
          }
          return last;
        });
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public Object scopeOpenClose(PlainVertx state) throws Exception {
    return onContext(
        state.context,
        () -> {
          Future<Object> last = Future.succeededFuture();
          for (int i = 0; i < BATCH; i++) {
            Integer value = i;
            last = TxScope.run(state.vertx, OPTIONS, () -> Future.succeededFuture(value));
          }
          return last;
        });
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public Object scopeNestedOpenClose(PlainVertx state) throws Exception {
    return onContext(
        state.context,
        () ->
            TxScope.run(
                state.vertx,
                OPTIONS,
                () -> {
                  Future<Object> last = Future.succeededFuture();
                  for (int i = 0; i < BATCH; i++) {
                    Integer value = i;
                    last = TxScope.run(state.vertx, OPTIONS, () -> Future.succeededFuture(value));
                  }
                  return last;
                }));
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public Object scopeCurrentLookup(PlainVertx state) throws Exception {
    return onContext(
        state.context,
        () ->
            TxScope.run(
                state.vertx,
                OPTIONS,
                () -> {
                  int found = 0;
                  for (int i = 0; i < BATCH; i++) {
                    TxContext tx = TxScope.current().orElse(null);
                    found += tx != null ? 1 : 0;
                  }
                  return Future.succeededFuture(found);
                }));
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public Object eventBusSendPlain(PlainVertx state) throws Exception {
    return onContext(state.context, () -> sendBatch(state));
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public Object eventBusSendPropagated(PropagatingVertx state) throws Exception {
    return onContext(
        state.context, () -> TxScope.run(state.vertx, OPTIONS, () -> sendBatch(state)));
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public Object eventBusRequestPlain(PlainVertx state) throws Exception {
    return onContext(state.context, () -> requestBatch(state));
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public Object eventBusRequestPropagated(PropagatingVertx state) throws Exception {
    return onContext(
        state.context, () -> TxScope.run(state.vertx, OPTIONS, () -> requestBatch(state)));
  }

  private static Future<Void> sendBatch(PlainVertx state) {
    CompletableFuture<Void> done = state.counter.expect(BATCH);
    EventBus eventBus = state.vertx.eventBus();
    for (int i = 0; i < BATCH; i++) {
      eventBus.send("bench.send", i);
    }
    return Future.fromCompletionStage(done, Vertx.currentContext());
  }

  private static Future<Void> requestBatch(PlainVertx state) {
    EventBus eventBus = state.vertx.eventBus();
    List<Future<Object>> replies = new ArrayList<>(BATCH);
    for (int i = 0; i < BATCH; i++) {
      replies.add(eventBus.request("bench.request", i).map(message -> message.body()));
    }
    return Future.all(replies).mapEmpty();
  }
}
