package io.shardkit.tx.impl.xa;

/**
 * {@link XaTransactionTest} with {@code pipelineBranchStart(true)} on pools whose pipelining limit
 * is 16: every branch's start goes out with its first statement ({@code SET autocommit=0; XA
 * START}, or {@code SET autocommit=0} for the deciding branch), and every path still ends with the
 * connection back in its pool with autocommit on, or closed.
 */
class XaTransactionPipelinedTest extends XaTransactionTest {

  @Override
  boolean pipelined() {
    return true;
  }
}
