package io.shardkit.tx.impl.xa;

import java.util.Set;

/**
 * What one recovery pass did.
 *
 * @param committed branches committed (decision COMMIT)
 * @param rolledBack branches rolled back (decision ABORT, found or written)
 * @param abortsDecided ABORT decisions this pass wrote (expired, undecided transactions)
 * @param inDoubt shardkit branches found prepared and left alone (deadline not passed, or still
 *     attached to their coordinator's connection)
 * @param pruned finished decision rows deleted
 * @param unreachable data sources that could not be scanned
 * @param leasedElsewhere data sources skipped because another instance held their lease
 */
public record RecoveryReport(
    int committed,
    int rolledBack,
    int abortsDecided,
    int inDoubt,
    int pruned,
    Set<String> unreachable,
    Set<String> leasedElsewhere) {

  public RecoveryReport {
    unreachable = Set.copyOf(unreachable);
    leasedElsewhere = Set.copyOf(leasedElsewhere);
  }
}
