package io.shardkit.router.conformance;

/**
 * How one case ended.
 *
 * @param id the case id
 * @param kind {@code dql} or {@code dml}
 * @param status passed, refused (typed refusal before any I/O) or failed
 * @param reason one line: why it was refused or failed; empty when passed
 * @param check what was compared, e.g. {@code 12 rows, ordered by result columns [0]}
 * @param millis wall time of the case (router, reference and checks)
 * @param referenceNote empty, or how our reference's count differs from the corpus's recorded one
 */
record Outcome(
    String id,
    String kind,
    Status status,
    String reason,
    String check,
    long millis,
    String referenceNote) {

  enum Status {
    PASSED,
    REFUSED,
    FAILED
  }
}
