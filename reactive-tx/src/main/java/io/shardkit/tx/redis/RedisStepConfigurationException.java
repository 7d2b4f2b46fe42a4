package io.shardkit.tx.redis;

import io.shardkit.context.ConfigurationException;

/**
 * A Redis step or effect is wrongly defined or used: no compensation, an unknown Redis source, a
 * missing script. Names the step (null when the error is not about a step) and the source.
 */
public class RedisStepConfigurationException extends ConfigurationException {

  private static final long serialVersionUID = 1L;

  private final String step;
  private final String source;

  public RedisStepConfigurationException(String step, String source, String message) {
    super("redis.steps." + (step == null ? "?" : step), message);
    this.step = step;
    this.source = source;
  }

  /** The step's name, or null. */
  public String step() {
    return step;
  }

  /** The Redis source name involved, or null. */
  public String source() {
    return source;
  }
}
