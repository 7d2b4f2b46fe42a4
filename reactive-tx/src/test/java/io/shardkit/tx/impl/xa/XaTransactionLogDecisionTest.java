package io.shardkit.tx.impl.xa;

/**
 * {@link XaTransactionTest} with every branch prepared and the decision in the coordinator log on
 * ds_0 ({@code TransactionsOptions.decisionOnParticipant(false)}).
 */
class XaTransactionLogDecisionTest extends XaTransactionTest {

  @Override
  boolean onParticipant() {
    return false;
  }
}
