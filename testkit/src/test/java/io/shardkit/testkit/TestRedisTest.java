package io.shardkit.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The testkit's Redis: a real redis-server, killed, paused and restarted for real. */
class TestRedisTest {

  @Test
  void ephemeralServerLosesItsDataOnKillAndComesBackOnTheSamePort() {
    try (TestRedis redis = TestRedis.startEphemeral()) {
      int port = redis.port();
      assertThat(redis.command("SET", "k", "v")).isEqualTo("OK");
      assertThat(redis.command("GET", "k")).isEqualTo("v");
      redis.kill();
      assertThat(redis.isRunning()).isFalse();
      assertThat(redis.command("PING")).isNull();
      redis.start();
      assertThat(redis.port()).isEqualTo(port);
      assertThat(redis.command("GET", "k")).isNull();
      assertThat(redis.command("CONFIG", "GET", "appendonly")).isEqualTo("appendonly\nno");
    }
  }

  @Test
  void durableServerKeepsAcknowledgedWritesAcrossKill() {
    try (TestRedis redis = TestRedis.startDurable()) {
      for (int i = 0; i < 100; i++) {
        assertThat(redis.command("INCR", "counter")).isEqualTo(Integer.toString(i + 1));
      }
      redis.kill();
      redis.start();
      assertThat(redis.command("GET", "counter")).isEqualTo("100");
      assertThat(redis.command("CONFIG", "GET", "appendfsync")).isEqualTo("appendfsync\nalways");
    }
  }

  @Test
  void pausedServerAnswersNothingUntilResumed() {
    try (TestRedis redis = TestRedis.startEphemeral()) {
      redis.command("SET", "k", "v");
      redis.pause();
      long start = System.nanoTime();
      assertThat(redis.command("GET", "k")).isNull(); // connect is accepted by the kernel, no reply
      assertThat(System.nanoTime() - start).isGreaterThan(1_500_000_000L);
      assertThat(redis.isRunning()).isTrue();
      redis.resume();
      assertThat(redis.command("GET", "k")).isEqualTo("v");
      assertThat(redis.command("EVAL", "return 1 + 1", "0")).isEqualTo("2");
      assertThat(redis.command("EVAL", "return redis.call('NOPE')", "0")).startsWith("-ERR");
    }
  }
}
