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
    MISMATCH
  }

  static final Verdict MATCH = new Verdict(Status.MATCH, "", "");

  /** Both sides failed, as they should. */
  static final Verdict BOTH_FAILED = new Verdict(Status.MATCH, "both failed", "");

  static Verdict refused(String reason) {
    return new Verdict(Status.REFUSED, reason, "");
  }

  static Verdict mismatch(String kind, String detail) {
    return new Verdict(Status.MISMATCH, kind, detail);
  }

  boolean isMismatch() {
    return status == Status.MISMATCH;
  }
}
