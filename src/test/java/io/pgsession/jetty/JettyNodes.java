package io.pgsession.jetty;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** The Jetty nodes a test starts, each stopped after the test. */
final class JettyNodes implements AfterEachCallback {
  private final List<JettyNode> nodes = new ArrayList<>();

  JettyNode start(String worker, PgSessionDataStoreFactory factory) throws Exception {
    JettyNode node = JettyNode.start(worker, factory);
    nodes.add(node);
    return node;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    for (JettyNode node : nodes) {
      node.close();
    }
    nodes.clear();
  }
}
