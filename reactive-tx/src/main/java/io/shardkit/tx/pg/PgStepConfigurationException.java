package io.shardkit.tx.pg;

import io.shardkit.context.ConfigurationException;

/**
 * A PostgreSQL step is wrongly defined or used: no compensation, no action, an unknown PostgreSQL
 * source, a name registered twice. Names the step (null when the error is not about a step) and the
 * source.
 */
public class PgStepConfigurationException extends ConfigurationException {

  private static final long serialVersionUID = 1L;

  private final String step;
  private final String source;

  public PgStepConfigurationException(String step, String source, String message) {
    super("pg.steps." + (step == null ? "?" : step), message);
    this.step = step;
    this.source = source;
  }

  /** The step's name, or null. */
  public String step() {
    return step;
  }

  /** The PostgreSQL source name involved, or null. */
  public String source() {
    return source;
  }
}
