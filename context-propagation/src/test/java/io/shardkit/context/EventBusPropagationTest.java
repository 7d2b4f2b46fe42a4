package io.shardkit.context;

import static io.shardkit.context.TestSupport.await;
import static io.shardkit.context.TestSupport.awaitFailure;
import static io.shardkit.context.TestSupport.never;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakGuardExtension.class)
class EventBusPropagationTest {

  private Vertx vertx;
  private EventBusPropagation propagation;

  @BeforeEach
  void start() {
    vertx = TestSupport.vertx();
    propagation = EventBusPropagation.install(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    propagation.uninstall();
    TestSupport.close(vertx);
  }

  @Test
  void consumerRunsUnderTheSendersIdWithNoMoreTimeThanTheSenderHad() throws Exception {
    Promise<TxContext> received = Promise.promise();
    AtomicReference<Duration> senderRemaining = new AtomicReference<>();
    vertx
        .eventBus()
        .consumer("ctx.send", message -> received.complete(TxScope.current().orElse(null)));

    await(
        TxScope.run(
            vertx,
            ScopeOptions.builder()
                .globalId("send-1")
                .branchId("ds_2")
                .timeout(Duration.ofSeconds(3))
                .build(),
            () -> {
              senderRemaining.set(TxScope.current().orElseThrow().deadline().remaining());
              vertx.eventBus().send("ctx.send", "hello");
              return Future.succeededFuture();
            }));
    TxContext actual = await(received.future());

    assertThat(actual).isNotNull();
    assertThat(actual.globalId()).isEqualTo("send-1");
    assertThat(actual.branchId()).contains("ds_2");
    assertThat(actual.routingHint()).isEmpty();
    assertThat(actual.deadline().remaining()).isLessThanOrEqualTo(senderRemaining.get());
    assertThat(actual.deadline().remaining()).isGreaterThan(Duration.ofSeconds(2));
  }

  @Test
  void publishReachesEveryConsumerWithTheContext() throws Exception {
    List<String> actualGids = new CopyOnWriteArrayList<>();
    Promise<Void> both = Promise.promise();
    for (int i = 0; i < 2; i++) {
      vertx
          .eventBus()
          .consumer(
              "ctx.publish",
              message -> {
                actualGids.add(TxScope.current().map(TxContext::globalId).orElse("none"));
                if (actualGids.size() == 2) {
                  both.complete();
                }
              });
    }

    await(
        TxScope.run(
            vertx,
            ScopeOptions.builder().globalId("publish-1").build(),
            () -> {
              vertx.eventBus().publish("ctx.publish", "hello");
              return Future.succeededFuture();
            }));
    await(both.future());

    assertThat(actualGids).containsExactly("publish-1", "publish-1");
  }

  @Test
  void replyCarriesTheRepliersContextButTheRequesterKeepsItsOwn() throws Exception {
    vertx
        .eventBus()
        .consumer(
            "ctx.reply",
            message ->
                TxScope.run(
                    vertx,
                    ScopeOptions.builder().globalId("replier-1").build(),
                    () -> {
                      message.reply("pong");
                      return Future.succeededFuture();
                    }));
    AtomicReference<String> requesterAfterReply = new AtomicReference<>();

    Message<Object> reply =
        await(
            TxScope.run(
                vertx,
                ScopeOptions.builder().globalId("requester-1").build(),
                () ->
                    vertx
                        .eventBus()
                        .request("ctx.reply", "ping")
                        .andThen(
                            ar ->
                                requesterAfterReply.set(
                                    TxScope.current().map(TxContext::globalId).orElse("none")))));

    assertThat(propagation.contextOf(reply).map(TxContext::globalId)).contains("replier-1");
    assertThat(requesterAfterReply.get()).isEqualTo("requester-1");
  }

  @Test
  void scopeOverwritesContextHeadersTheSenderSet() throws Exception {
    Promise<String> received = Promise.promise();
    vertx
        .eventBus()
        .consumer(
            "ctx.overwrite",
            message ->
                received.complete(TxScope.current().map(TxContext::globalId).orElse("none")));

    await(
        TxScope.run(
            vertx,
            ScopeOptions.builder().globalId("real-1").build(),
            () -> {
              vertx
                  .eventBus()
                  .send(
                      "ctx.overwrite",
                      "x",
                      new DeliveryOptions().addHeader(PropagationHeaders.GLOBAL_ID, "forged-1"));
              return Future.succeededFuture();
            }));

    assertThat(await(received.future())).isEqualTo("real-1");
  }

  @Test
  void sendOutsideAnyScopeCarriesNoContext() throws Exception {
    Promise<String> received = Promise.promise();
    vertx
        .eventBus()
        .consumer(
            "ctx.none",
            message ->
                received.complete(TxScope.current().map(TxContext::globalId).orElse("none")));

    vertx.runOnContext(v -> vertx.eventBus().send("ctx.none", "x"));

    assertThat(await(received.future())).isEqualTo("none");
  }

  @Test
  void contextForwardedByABridgeIsRestored() throws Exception {
    Promise<TxContext> received = Promise.promise();
    vertx
        .eventBus()
        .consumer("ctx.bridge", message -> received.complete(TxScope.current().orElse(null)));

    vertx
        .eventBus()
        .send(
            "ctx.bridge",
            "x",
            new DeliveryOptions()
                .addHeader(PropagationHeaders.GLOBAL_ID, "bridged-1")
                .addHeader(PropagationHeaders.TIMEOUT_MILLIS, "1500"));
    TxContext actual = await(received.future());

    assertThat(actual.globalId()).isEqualTo("bridged-1");
    assertThat(actual.deadline().remaining()).isLessThanOrEqualTo(Duration.ofMillis(1500));
  }

  @Test
  void malformedIdIsIgnored() throws Exception {
    Promise<String> received = Promise.promise();
    Promise<String> second = Promise.promise();
    vertx
        .eventBus()
        .consumer(
            "ctx.malformed",
            message ->
                (message.body().equals("x") ? received : second)
                    .complete(TxScope.current().map(TxContext::globalId).orElse("none")));

    vertx
        .eventBus()
        .send(
            "ctx.malformed",
            "x",
            new DeliveryOptions()
                .addHeader(PropagationHeaders.GLOBAL_ID, "x'; DROP TABLE t; --")
                .addHeader(PropagationHeaders.TIMEOUT_MILLIS, "1000"));
    vertx
        .eventBus()
        .send(
            "ctx.malformed",
            "y",
            new DeliveryOptions()
                .addHeader(PropagationHeaders.GLOBAL_ID, "good-id")
                .addHeader(PropagationHeaders.TIMEOUT_MILLIS, "soon"));

    assertThat(await(received.future())).isEqualTo("none");
    assertThat(await(second.future())).isEqualTo("none");
  }

  @Test
  void scopedHandlerThatNeverCompletesFailsTheRequesterAtTheDeadline() throws Exception {
    AtomicInteger releases = new AtomicInteger();
    AtomicReference<String> handlerGid = new AtomicReference<>();
    vertx
        .eventBus()
        .consumer(
            "ctx.stuck",
            EventBusPropagation.scoped(
                vertx,
                message -> {
                  handlerGid.set(TxScope.current().orElseThrow().globalId());
                  TxScope.pin(
                      "connection",
                      () -> {
                        releases.incrementAndGet();
                        return Future.succeededFuture();
                      });
                  return never();
                }));
    long start = System.nanoTime();

    Throwable actual =
        awaitFailure(
            TxScope.run(
                vertx,
                ScopeOptions.builder().globalId("stuck-eb").timeout(Duration.ofMillis(300)).build(),
                () -> propagation.request("ctx.stuck", "work")));
    Duration waited = Duration.ofNanos(System.nanoTime() - start);

    assertThat(actual)
        .isInstanceOf(ShardkitTimeoutException.class)
        .hasMessageContaining("stuck-eb");
    assertThat(((ShardkitTimeoutException) actual).globalId()).isEqualTo("stuck-eb");
    assertThat(handlerGid.get()).isEqualTo("stuck-eb");
    assertThat(waited).isLessThan(Duration.ofSeconds(5));
    // The consumer's scope times out on its own event loop, possibly just after the requester's.
    new LeakGuardExtension().check("after the stuck request");
    assertThat(releases).hasValue(1);
  }

  @Test
  void scopedHandlerRepliesWithItsResultAndFailureCodes() throws Exception {
    vertx
        .eventBus()
        .<String>consumer(
            "ctx.scoped",
            EventBusPropagation.scoped(
                vertx,
                message ->
                    message.body().equals("fail")
                        ? Future.failedFuture(new IllegalStateException("no stock"))
                        : Future.succeededFuture(
                            TxScope.current().orElseThrow().globalId() + ":" + message.body())));

    Message<String> ok =
        await(
            TxScope.run(
                vertx,
                ScopeOptions.builder().globalId("scoped-1").build(),
                () -> propagation.<String>request("ctx.scoped", "item")));
    Throwable failed = awaitFailure(vertx.eventBus().request("ctx.scoped", "fail"));

    assertThat(ok.body()).isEqualTo("scoped-1:item");
    assertThat(failed).isInstanceOf(ReplyException.class).hasMessageContaining("no stock");
    assertThat(((ReplyException) failed).failureCode()).isEqualTo(EventBusPropagation.FAILURE_CODE);
  }

  @Test
  void requestWithoutReplyFailsAtTheRequestersDeadlineNotAfterThirtySeconds() throws Exception {
    vertx.eventBus().consumer("ctx.silent", message -> {});
    long start = System.nanoTime();

    Throwable actual =
        awaitFailure(
            TxScope.run(
                vertx,
                ScopeOptions.ofTimeout(Duration.ofMillis(200)),
                () -> propagation.request("ctx.silent", "anyone?")));
    Duration waited = Duration.ofNanos(System.nanoTime() - start);

    assertThat(actual).isInstanceOf(ShardkitTimeoutException.class);
    assertThat(waited)
        .isGreaterThanOrEqualTo(Duration.ofMillis(150))
        .isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void requestWithNoTimeLeftIsNotSent() throws Exception {
    List<Object> delivered = new CopyOnWriteArrayList<>();
    Promise<Void> marker = Promise.promise();
    Promise<Object> outcome = Promise.promise();
    vertx
        .eventBus()
        .consumer(
            "ctx.late",
            message -> {
              delivered.add(message.body());
              if ("marker".equals(message.body())) {
                marker.complete();
              }
            });
    vertx
        .eventBus()
        .consumer(
            "ctx.expired",
            message ->
                propagation
                    .request("ctx.late", "too late")
                    .onComplete(ar -> outcome.handle(ar.map(m -> m))));

    vertx
        .eventBus()
        .send(
            "ctx.expired",
            "x",
            new DeliveryOptions()
                .addHeader(PropagationHeaders.GLOBAL_ID, "expired-1")
                .addHeader(PropagationHeaders.TIMEOUT_MILLIS, "0"));
    Throwable actual = awaitFailure(outcome.future());
    // Delivery to one consumer is ordered: had "too late" been sent, it would arrive first.
    vertx.eventBus().send("ctx.late", "marker");
    await(marker.future());

    assertThat(actual)
        .isInstanceOf(ShardkitTimeoutException.class)
        .hasMessageContaining("expired-1");
    assertThat(delivered).containsExactly("marker");
  }

  @Test
  void standaloneBoundTimersAreCountedAndForceClosed() throws Exception {
    // A context restored from the event bus has no owning scope: bound() sets its own timer.
    AtomicInteger cleanups = new AtomicInteger();
    Promise<Future<Object>> bounded = Promise.promise();
    vertx
        .eventBus()
        .consumer(
            "bound.standalone",
            message -> bounded.complete(TxScope.bound(never(), cleanups::incrementAndGet)));
    TxScope.run(
        vertx,
        ScopeOptions.ofTimeout(Duration.ofMinutes(5)),
        () -> {
          vertx.eventBus().send("bound.standalone", "x");
          return Future.succeededFuture();
        });
    Future<Object> actual = await(bounded.future());
    int timersWhilePending = TxScope.registry().pendingTimers();
    String report = TxScope.registry().describe();

    int closed = TxScope.registry().forceCloseAll("test over");

    assertThat(timersWhilePending).isEqualTo(1);
    assertThat(report).contains("bound() timer of gid=");
    assertThat(closed).isEqualTo(1);
    assertThat(cleanups).hasValue(1);
    assertThat(awaitFailure(actual)).hasMessageContaining("test over");
  }
}
