package io.shardkit.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a test class {@code value} real shards and a fresh database on each: parameters of type
 * {@link ShardDatabases} and {@link TestShards} are injected into constructors, lifecycle and test
 * methods. The databases are dropped after the class, and shards the class paused or stopped are
 * resumed or restarted.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(ShardsExtension.class)
public @interface Shards {

  /** Number of shards (and databases). */
  int value() default 2;
}
