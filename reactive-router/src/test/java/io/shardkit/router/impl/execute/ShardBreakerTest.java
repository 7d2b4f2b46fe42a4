package io.shardkit.router.impl.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.CircuitBreakerOptions;
import io.shardkit.router.ShardCircuitBreaker.State;
import io.shardkit.router.ShardCircuitOpenException;
import io.shardkit.router.ShardingConfigurationException;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The breaker's state machine with a hand-driven clock (no database, no timers). */
class ShardBreakerTest {

  final AtomicLong clock = new AtomicLong();
  final List<String> transitions = new ArrayList<>();
  final List<String> rejections = new ArrayList<>();

  ShardBreaker breaker(CircuitBreakerOptions.Builder options) {
    return breakerWith(options.slowCallDuration(Duration.ZERO));
  }

  ShardBreaker breakerWith(CircuitBreakerOptions.Builder options) {
    return new ShardBreaker(
        "ds_1",
        options.build(),
        clock::get,
        new ShardBreaker.Listener() {
          @Override
          public void transition(String dataSource, State to) {
            transitions.add(dataSource + ":" + to);
          }

          @Override
          public void rejected(String dataSource) {
            rejections.add(dataSource);
          }
        });
  }

  @Test
  void opensOnConsecutiveFailuresAndRefusesWithoutIo() {
    ShardBreaker b = breaker(CircuitBreakerOptions.builder().consecutiveFailures(3));
    b.start(true).end(true);
    b.start(true).end(true);
    b.start(true).end(false); // a success resets the run
    b.start(true).end(true);
    b.start(true).end(true);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    b.start(true).end(true);
    assertThat(b.state()).isEqualTo(State.OPEN);
    assertThatThrownBy(() -> b.start(true))
        .isInstanceOf(ShardCircuitOpenException.class)
        .hasMessageContaining("ds_1")
        .hasMessageContaining("3 consecutive failures");
    assertThatThrownBy(b::checkAvailable).isInstanceOf(ShardCircuitOpenException.class);
    assertThat(rejections).hasSize(2);
    // ungated calls (a transaction's own connection) still run; they only report
    b.start(false).end(false);
  }

  @Test
  void opensOnFailureRateOverTheWindowOnlyAfterMinimumCalls() {
    ShardBreaker b =
        breaker(
            CircuitBreakerOptions.builder()
                .consecutiveFailures(100)
                .windowSize(10)
                .minimumCalls(6)
                .failureRateThreshold(50));
    for (int i = 0; i < 2; i++) {
      b.start(true).end(true);
      b.start(true).end(false);
    }
    assertThat(b.state()).as("4 calls < minimumCalls").isEqualTo(State.CLOSED);
    b.start(true).end(true);
    assertThat(b.state()).as("3 of 5").isEqualTo(State.CLOSED);
    b.start(true).end(false);
    assertThat(b.state()).as("3 of 6 = 50%").isEqualTo(State.OPEN);
  }

  @Test
  void halfOpenProbeClosesOrReopens() {
    ShardBreaker b =
        breaker(
            CircuitBreakerOptions.builder()
                .consecutiveFailures(1)
                .openDuration(Duration.ofSeconds(1))
                .halfOpenProbes(1));
    b.start(true).end(true);
    assertThat(b.state()).isEqualTo(State.OPEN);
    clock.addAndGet(Duration.ofMillis(999).toNanos());
    assertThatThrownBy(() -> b.start(true)).isInstanceOf(ShardCircuitOpenException.class);
    clock.addAndGet(Duration.ofMillis(1).toNanos());
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    ShardBreaker.Call probe = b.start(true);
    assertThatThrownBy(() -> b.start(true))
        .as("one probe at a time")
        .isInstanceOf(ShardCircuitOpenException.class)
        .hasMessageContaining("HALF_OPEN");
    probe.end(true);
    assertThat(b.state()).as("failed probe").isEqualTo(State.OPEN);
    assertThatThrownBy(b::checkAvailable).isInstanceOf(ShardCircuitOpenException.class);
    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    b.start(true).end(false);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    assertThat(transitions)
        .containsExactly(
            "ds_1:OPEN", "ds_1:HALF_OPEN", "ds_1:OPEN", "ds_1:HALF_OPEN", "ds_1:CLOSED");
  }

  @Test
  void transactionStatementsProbeAHalfOpenBreakerAndReopenOrCloseIt() {
    ShardBreaker b =
        breaker(
            CircuitBreakerOptions.builder()
                .consecutiveFailures(1)
                .openDuration(Duration.ofSeconds(1)));
    b.start(false).end(true); // ungated calls count while closed
    assertThat(b.state()).isEqualTo(State.OPEN);
    b.start(false).end(false); // ...but not while open
    assertThat(b.state()).isEqualTo(State.OPEN);
    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    b.checkAvailable(); // an enlistment may try: its first statement is the probe
    ShardBreaker.Call enlistingStatement = b.start(false);
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    b.checkAvailable(); // half-open: transactions are not refused, their statements probe
    assertThatThrownBy(() -> b.start(true))
        .as("the pool's one probe slot is taken")
        .isInstanceOf(ShardCircuitOpenException.class);
    enlistingStatement.end(true);
    assertThat(b.state()).isEqualTo(State.OPEN);
    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    b.start(false).end(false);
    assertThat(b.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void aCallStartedBeforeTheBreakerOpenedCannotCloseIt() {
    ShardBreaker b = breaker(CircuitBreakerOptions.builder().consecutiveFailures(1));
    ShardBreaker.Call old = b.start(true);
    b.start(true).end(true);
    clock.addAndGet(Duration.ofMinutes(1).toNanos());
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    ShardBreaker.Call probe = b.start(true);
    old.end(false);
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    probe.end(false);
    assertThat(b.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void sweepMarksCallsRunningPastTheSlowDurationAndOpensOnTheSlowRate() {
    ShardBreaker b =
        breakerWith(
            CircuitBreakerOptions.builder()
                .windowSize(10)
                .minimumCalls(4)
                .slowCallRateThreshold(50)
                .slowCallDuration(Duration.ofMillis(100)));
    long ms = 1_000_000L;
    b.start(true).end(false);
    b.start(true).end(false);
    ShardBreaker.Call stuck1 = b.start(true);
    clock.addAndGet(50 * ms);
    ShardBreaker.Call stuck2 = b.start(true);
    java.util.concurrent.atomic.AtomicInteger slowActions =
        new java.util.concurrent.atomic.AtomicInteger();
    stuck1.onSlow(slowActions::incrementAndGet);

    clock.addAndGet(60 * ms); // stuck1 at 110 ms, stuck2 at 60 ms
    b.sweep();
    assertThat(slowActions).hasValue(1);
    assertThat(b.state()).as("1 slow of 3 calls is under 50 %").isEqualTo(State.CLOSED);

    stuck1.end(false); // its late success is ignored: it already counted as slow
    clock.addAndGet(40 * ms); // stuck2 at 100 ms
    b.sweep();
    assertThat(b.state()).as("2 slow of 4 calls").isEqualTo(State.OPEN);
    assertThat(transitions).containsExactly("ds_1:OPEN");
    stuck2.end(false);
    assertThat(slowActions).hasValue(1);
  }

  @Test
  void aCallThatEndsInTimeIsNeverMarkedSlow() {
    ShardBreaker b =
        breakerWith(
            CircuitBreakerOptions.builder()
                .windowSize(10)
                .minimumCalls(1)
                .slowCallRateThreshold(1)
                .slowCallDuration(Duration.ofMillis(100)));
    ShardBreaker.Call call = b.start(true);
    clock.addAndGet(99_000_000L);
    call.end(false);
    clock.addAndGet(10_000_000_000L);
    b.sweep();
    assertThat(b.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void optionsAreValidatedAndRoundTripThroughJson() {
    CircuitBreakerOptions options =
        CircuitBreakerOptions.builder()
            .windowSize(30)
            .minimumCalls(10)
            .slowCallDuration(Duration.ofMillis(250))
            .openDuration(Duration.ofMillis(700))
            .build();
    assertThat(CircuitBreakerOptions.fromJson(options.toJson())).isEqualTo(options);
    assertThatThrownBy(() -> CircuitBreakerOptions.builder().failureRateThreshold(0))
        .isInstanceOf(ShardingConfigurationException.class)
        .hasMessageContaining("circuitBreaker.failureRateThreshold");
    assertThatThrownBy(() -> CircuitBreakerOptions.builder().windowSize(5).minimumCalls(6).build())
        .hasMessageContaining("minimumCalls");
    assertThatThrownBy(() -> CircuitBreakerOptions.fromJson(new JsonObject().put("window", 3)))
        .hasMessageContaining("circuitBreaker.window");
  }
}
