package io.shardkit.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/** JUnit 5 extension behind {@link Shards}; see there. */
public final class ShardsExtension
    implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ShardsExtension.class);
  private static final String DATABASES = "databases";

  @Override
  public void beforeAll(ExtensionContext context) {
    databases(context);
  }

  private ShardDatabases databases(ExtensionContext context) {
    ExtensionContext classContext = classContext(context);
    return classContext
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(
            DATABASES,
            key -> {
              Class<?> testClass = classContext.getRequiredTestClass();
              Shards shards = testClass.getAnnotation(Shards.class);
              int count = shards == null ? 2 : shards.value();
              TestShards testShards = TestShards.get(count);
              testShards.heal();
              return testShards.createDatabases(testClass.getSimpleName(), count);
            },
            ShardDatabases.class);
  }

  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext current = context;
    while (current.getTestMethod().isPresent() && current.getParent().isPresent()) {
      current = current.getParent().get();
    }
    return current;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    ShardDatabases databases = context.getStore(NAMESPACE).remove(DATABASES, ShardDatabases.class);
    if (databases != null) {
      TestShards.get(databases.size()).heal();
      databases.close();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == ShardDatabases.class || type == TestShards.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    ShardDatabases databases = databases(context);
    if (parameter.getParameter().getType() == TestShards.class) {
      return TestShards.get(databases.size());
    }
    return databases;
  }
}
