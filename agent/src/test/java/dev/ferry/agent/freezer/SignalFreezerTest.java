package dev.ferry.agent.freezer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.tracking.PageChild;
import dev.ferry.agent.tracking.TrackingException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SIGSTOP freezing of real multi-threaded children. */
class SignalFreezerTest extends FreezerContract {
  private final SignalFreezer freezer = new SignalFreezer();

  @Override
  Freezer freezer() {
    return freezer;
  }

  @Override
  PageChild start(int pages) throws IOException, InterruptedException {
    return PageChild.start(pages);
  }

  @Test
  void anExitedRootIsATypedError() throws Exception {
    PageChild child = PageChild.start(16);
    int pid = child.pid();
    child.close();
    TrackingException e = assertThrows(TrackingException.class, () -> freezer.freeze(List.of(pid), Duration.ofSeconds(1)));
    assertEquals(TrackingException.Reason.PROCESS_EXITED, e.reason());
  }

  @Test
  void anInterruptedFreezeResumesTheProcess() throws Exception {
    try (PageChild child = PageChild.start(16)) {
      int pid = child.pid();
      Thread.currentThread().interrupt();
      // the child stops fast, so the interrupt may or may not be seen; either way it must run after
      try (FrozenTree frozen = freezer.freeze(List.of(pid), Duration.ofSeconds(5))) {
        assertTrue(frozen.pids().contains(pid));
      } catch (InterruptedException expected) {
        // resumed in finally
      } finally {
        Thread.interrupted();
      }
      await(() -> state(pid) == TaskStates.Stopped.NOT_ALL || runningOrSleeping(pid), "the child is not stopped");
    }
  }
}
