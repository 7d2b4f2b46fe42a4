package io.shardkit.router.fuzz;

/**
 * How one statement ended.
 *
 * @param status match, refusal or mismatch
 * @param category the refusal reason (exception class and message prefix) or the mismatch class
 * @param detail what differed, with values
 */
record Verdict(Status status, String category, String detail) {

  enum Status {
    MATCH,
    REFUSED,
    /**
     * A write that failed on both sides after the router had sent it to several data sources: the
     * fuzz pool opts in to non-atomic multi-node writes, so the data sources that ran it keep it
     * (the option's documented partial write). Counted apart, tables repaired; not a merge error.
     */
    PARTIAL_WRITE,
    MISMATCH
  }

  static final Verdict MATCH = new Verdict(Status.MATCH, "", "");

  /** Both sides failed, as they should. */
  static final Verdict BOTH_FAILED = new Verdict(Status.MATCH, "both failed", "");

  /**
   * The reference's ordered answer is not its unordered one, and the router's answer is that
   * unordered one (see {@code DifferentialCheck}): a match, counted apart, order unchecked.
   */
  static final Verdict REFERENCE_CONTRADICTED =
      new Verdict(Status.MATCH, "reference contradicts itself", "");

  static Verdict refused(String reason) {
    return new Verdict(Status.REFUSED, reason, "");
  }

  static Verdict partialWrite(String detail) {
    return new Verdict(Status.PARTIAL_WRITE, "non-atomic multi-node write failed midway", detail);
  }

  static Verdict mismatch(String kind, String detail) {
    return new Verdict(Status.MISMATCH, kind, detail);
  }

  boolean isMismatch() {
    return status == Status.MISMATCH;
  }
}
