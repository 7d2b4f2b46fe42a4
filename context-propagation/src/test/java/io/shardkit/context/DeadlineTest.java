package io.shardkit.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DeadlineTest {

  @Test
  void remainingNeverExceedsTheTimeoutAndNeverGoesNegative() {
    Duration expectedTimeout = Duration.ofSeconds(5);
    Deadline deadline = Deadline.in(expectedTimeout);

    assertThat(deadline.remaining()).isLessThanOrEqualTo(expectedTimeout);
    assertThat(deadline.remaining()).isGreaterThan(Duration.ofSeconds(4));
    assertThat(deadline.isExpired()).isFalse();

    Deadline past = Deadline.in(Duration.ofMillis(-5));
    assertThat(past.isExpired()).isTrue();
    assertThat(past.remaining()).isEqualTo(Duration.ZERO);
    assertThat(past.remainingMillis()).isZero();
  }

  @Test
  void minPicksTheEarlierDeadline() {
    Deadline early = Deadline.in(Duration.ofSeconds(1));
    Deadline late = Deadline.in(Duration.ofSeconds(10));

    assertThat(early.min(late)).isSameAs(early);
    assertThat(late.min(early)).isSameAs(early);
    assertThat(early.isBefore(late)).isTrue();
    assertThat(late.isBefore(early)).isFalse();
    assertThat(early.compareTo(late)).isNegative();
  }

  @Test
  void remainingMillisTruncatesSoTheWireNeverCarriesMore() {
    Deadline deadline = Deadline.in(1_999_999, TimeUnit.MICROSECONDS);

    assertThat(deadline.remainingMillis()).isLessThanOrEqualTo(1_999);
  }

  @Test
  void grpcTimeoutRoundTripsWithoutGainingTime() {
    Deadline sender = Deadline.in(Duration.ofMillis(4_321));

    String actualHeader = sender.toGrpcTimeout();
    Deadline receiver = Deadline.fromGrpcTimeout(actualHeader);

    assertThat(actualHeader).matches("[0-9]{1,8}[HMSmun]");
    assertThat(receiver.remaining()).isLessThanOrEqualTo(Duration.ofMillis(4_321));
    assertThat(receiver.remaining()).isGreaterThan(Duration.ofMillis(4_000));
  }

  @Test
  void grpcTimeoutUsesTheFinestUnitThatFitsEightDigits() {
    assertThat(Deadline.in(50, TimeUnit.MILLISECONDS).toGrpcTimeout()).endsWith("n");
    assertThat(Deadline.in(5, TimeUnit.SECONDS).toGrpcTimeout()).endsWith("u");
    assertThat(Deadline.in(5, TimeUnit.HOURS).toGrpcTimeout()).endsWith("m");
    assertThat(Deadline.in(1000, TimeUnit.DAYS).toGrpcTimeout()).endsWith("S");
  }

  @Test
  void expiredDeadlineNeverEncodesAsZero() {
    assertThat(Deadline.in(Duration.ofMillis(-1)).toGrpcTimeout()).isEqualTo("1n");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "5", "m", "123456789m", "12x", "-5m", "1.5S"})
  void malformedGrpcTimeoutIsRejected(String value) {
    assertThatThrownBy(() -> Deadline.fromGrpcTimeout(value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("grpc-timeout");
  }

  @Test
  void everyGrpcUnitIsUnderstood() {
    assertThat(Deadline.fromGrpcTimeout("1H").remaining()).isGreaterThan(Duration.ofMinutes(59));
    assertThat(Deadline.fromGrpcTimeout("2M").remaining()).isGreaterThan(Duration.ofSeconds(119));
    assertThat(Deadline.fromGrpcTimeout("3S").remaining()).isGreaterThan(Duration.ofMillis(2_900));
    assertThat(Deadline.fromGrpcTimeout("400m").remaining()).isGreaterThan(Duration.ofMillis(300));
    assertThat(Deadline.fromGrpcTimeout("500000u").remaining())
        .isGreaterThan(Duration.ofMillis(400));
    assertThat(Deadline.fromGrpcTimeout("60000000n").remaining())
        .isGreaterThan(Duration.ofMillis(50));
  }

  @Test
  void hugeTimeoutsDoNotOverflow() {
    Deadline far = Deadline.in(Duration.ofDays(365L * 1000));

    assertThat(far.isExpired()).isFalse();
    assertThat(Deadline.in(Long.MAX_VALUE, TimeUnit.DAYS).isExpired()).isFalse();
    assertThat(Deadline.in(Long.MIN_VALUE, TimeUnit.DAYS).isExpired()).isTrue();
  }
}
