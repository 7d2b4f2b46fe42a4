package io.shardkit.context;

import io.shardkit.context.impl.Scopes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The entry point of shardkit's context propagation: runs work inside a <em>scope</em> that gives
 * it a global transaction id and a mandatory deadline, makes both visible to everything the work
 * does on the Vert.x context, and releases whatever the work leaves behind when the scope closes.
 *
 * <pre>
 * TxScope.run(vertx, ScopeOptions.ofTimeout(Duration.ofSeconds(2)), () -&gt; doWork())
 * </pre>
 *
 * (see {@code io.shardkit.examples.ContextPropagationExample} for a compiled program).
 *
 * <h2>Where the state lives</h2>
 *
 * A scope runs its body on a new Vert.x <em>duplicated context</em> derived from the caller's
 * context (a context of {@code vertx} is created when the caller is outside Vert.x), and keeps its
 * {@link TxContext} in a {@code ContextLocal} of that context. Callbacks the body registers run on
 * the same duplicated context and so see the same {@link #current()}; two scopes running
 * concurrently on one event loop have two contexts and never see each other's values. Nothing is
 * kept in a {@code ThreadLocal}.
 *
 * <h2>Lifecycle</h2>
 *
 * A scope closes exactly once, on the first of: the body's future completes; the deadline passes
 * (the caller then gets a {@link ShardkitTimeoutException} at the deadline, even if the body's
 * future never completes); the enclosing scope closes. Closing cancels the deadline timer, releases
 * every resource still {@linkplain #pin pinned} to the scope (newest first), closes nested scopes
 * still open, abandons {@linkplain #bound bounded} futures still pending (running their cleanup),
 * and removes the scope from the {@link #registry()} before the caller's future completes. The
 * caller's future always completes on the caller's context.
 *
 * <h2>Nesting</h2>
 *
 * Inside a scope (or a context restored from the event bus or gRPC), {@link #run} opens a nested
 * scope: its deadline is the earlier of its own timeout and the enclosing deadline, and it inherits
 * the global id, branch id and routing hint unless its {@link ScopeOptions} set them; see {@link
 * ScopeOptions} for the exact rules. The nested scope is owned by the enclosing one.
 *
 * <h2>Across processes</h2>
 *
 * {@link EventBusPropagation} carries the context over event-bus messages and {@link
 * GrpcPropagation} over gRPC calls; both send the remaining time, never more.
 */
public final class TxScope {

  private TxScope() {}

  /**
   * Runs {@code body} inside a new scope.
   *
   * @param vertx the Vert.x instance whose context the scope derives from
   * @param options the timeout (mandatory; the default applies when not set) and the ids
   * @param body the work; called once, on the scope's context; a throw or a null result fails the
   *     scope like a failed future
   * @return the body's outcome, completed on the caller's context; fails with {@link
   *     ShardkitTimeoutException} at the deadline, or with a {@link ShardkitException} if the
   *     enclosing scope closes first
   */
  public static <T> Future<T> run(Vertx vertx, ScopeOptions options, Supplier<Future<T>> body) {
    return Scopes.run(vertx, options, body);
  }

  /** {@link #run(Vertx, ScopeOptions, Supplier)} with {@link ScopeOptions#defaults()}. */
  public static <T> Future<T> run(Vertx vertx, Supplier<Future<T>> body) {
    return Scopes.run(vertx, ScopeOptions.defaults(), body);
  }

  /**
   * The transaction context of the current Vert.x context: the innermost open scope's, or the one
   * an event-bus or gRPC hop restored. Empty outside Vert.x and on contexts no scope reached.
   */
  public static Optional<TxContext> current() {
    return Scopes.current();
  }

  /**
   * Bounds {@code work} by the current deadline. The returned future completes with {@code work}'s
   * outcome if it comes first. Otherwise {@code cleanup} runs (once, on the context of the deadline
   * timer) and the returned future fails: with {@link ShardkitTimeoutException} when the deadline
   * passes, with {@link ShardkitException} when the owning scope closes first. That holds even if
   * {@code work} never completes, which is the point: {@code Future.timeout} fails the future but
   * leaves the work running; here {@code cleanup} stops it (cancel the call, close the connection,
   * roll back).
   *
   * <p>Called outside any context, the returned future fails at once with a {@link
   * ShardkitException}: there is no deadline to bound by.
   *
   * @param work the future to bound
   * @param cleanup what stops the work if the deadline comes first; may be null
   * @return a future completed on the current context
   */
  public static <T> Future<T> bound(Future<T> work, Runnable cleanup) {
    return Scopes.bound(work, cleanup);
  }

  /**
   * Like {@link #bound(Future, Runnable)}, but starts the work itself, and only while there is time
   * left: if the deadline has already passed (or the owning scope is closed) {@code work} is never
   * called, so nothing is sent to a database on behalf of a transaction that has timed out, and the
   * returned future fails as it would at the deadline. {@code cleanup} runs only for work that was
   * started. A throw from {@code work} or a null result fails the returned future.
   *
   * @param work starts the work; called at most once, on the calling thread
   * @param cleanup what stops the work if the deadline comes first; may be null
   * @return a future completed on the current context
   */
  public static <T> Future<T> bound(Supplier<Future<T>> work, Runnable cleanup) {
    return Scopes.bound(work, cleanup);
  }

  /**
   * Pins a resource to the current scope: if the scope closes while the resource is pinned, the
   * scope runs {@code releaseAction} and counts a forced release. The caller normally gives the
   * resource back itself, through {@link Pin#release()} or {@link Pin#unpin()}.
   *
   * @param kind what is pinned, for the registry's report (e.g. {@code "connection"})
   * @param releaseAction gives the resource back (e.g. {@code connection::close}); its failure is
   *     logged, never thrown
   * @return the handle to release or unpin the resource
   * @throws ShardkitException if no scope owns the current context (including a context restored
   *     from the event bus or gRPC: open a scope first), or if the scope is already closed (the
   *     resource is then released at once)
   */
  public static Pin pin(String kind, Supplier<? extends Future<?>> releaseAction) {
    return Scopes.pin(kind, releaseAction);
  }

  /** The process-wide registry of open scopes, pinned resources and pending timers. */
  public static ScopeRegistry registry() {
    return Scopes.registry();
  }
}
