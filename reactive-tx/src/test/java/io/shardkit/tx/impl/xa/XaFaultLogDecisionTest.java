package io.shardkit.tx.impl.xa;

/**
 * {@link XaFaultTest} with every branch prepared and the decision in the coordinator log ({@code
 * TransactionsOptions.decisionOnParticipant(false)}, and what a transaction whose first branch is a
 * PostgreSQL source does).
 */
class XaFaultLogDecisionTest extends XaFaultTest {

  @Override
  boolean onParticipant() {
    return false;
  }
}
