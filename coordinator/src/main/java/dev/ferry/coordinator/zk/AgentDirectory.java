package dev.ferry.coordinator.zk;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.ferry.proto.AgentCapabilities;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registered agents, mirrored from their ephemeral znodes by a Curator cache, so reads never
 * block on ZooKeeper. An agent appears when it registers and disappears with its session.
 */
public final class AgentDirectory implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentDirectory.class);

  /** An agent as registered, with the time its znode was created. */
  public record RegisteredAgent(AgentCapabilities capabilities, long registeredUnixMillis) {}

  private final ZkLayout layout;
  private final CuratorCache cache;

  public AgentDirectory(CuratorFramework zk, ZkLayout layout) {
    this.layout = layout;
    this.cache = CuratorCache.build(zk, layout.agents());
  }

  public void start() {
    cache.start();
  }

  public List<RegisteredAgent> agents() {
    List<RegisteredAgent> out = new ArrayList<>();
    cache.stream().filter(d -> isAgent(d.getPath())).forEach(d -> parse(d).ifPresent(out::add));
    out.sort(Comparator.comparing(a -> a.capabilities().getHost()));
    return out;
  }

  public Optional<RegisteredAgent> agent(String host) {
    return cache.get(layout.agent(host)).flatMap(this::parse);
  }

  private boolean isAgent(String path) {
    return path.startsWith(layout.agents() + "/") && path.indexOf('/', layout.agents().length() + 1) < 0;
  }

  private Optional<RegisteredAgent> parse(ChildData d) {
    if (d.getData() == null) {
      return Optional.empty();
    }
    try {
      AgentCapabilities c = AgentCapabilities.parseFrom(d.getData());
      return Optional.of(new RegisteredAgent(c, d.getStat() == null ? 0 : d.getStat().getCtime()));
    } catch (InvalidProtocolBufferException e) {
      log.warn("agent znode {} holds no AgentCapabilities: {}", d.getPath(), e.getMessage());
      return Optional.empty();
    }
  }

  @Override
  public void close() {
    cache.close();
  }
}
