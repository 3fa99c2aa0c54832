package dev.ferry.agent.criu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Work moved off the critical path (the parent check, the parent link): its verdict reaches the caller unchanged. */
class BackgroundWorkTest {
  @Test
  void aPassingCheckReportsHowLongItRan() throws Exception {
    CountDownLatch ran = new CountDownLatch(1);
    try (BackgroundWork<String> c = BackgroundWork.start("t", () -> {
      ran.countDown();
      return "linked";
    })) {
      assertEquals("linked", c.await());
      assertTrue(!c.elapsed().isNegative());
      assertTrue(ran.await(0, TimeUnit.SECONDS));
    }
  }

  @Test
  void aFailedCheckThrowsItsOwnFailure() {
    CriuFailure missing = new CriuFailure(CriuFailure.Reason.BAD_OUTPUT, "page 7f00 not held", "");
    try (BackgroundWork<Void> c = BackgroundWork.start("t", () -> {
      throw missing;
    })) {
      CriuFailure f = assertThrows(CriuFailure.class, c::await);
      assertSame(missing, f);
      assertEquals(io.grpc.Status.Code.DATA_LOSS, f.toStatus().getCode());
    }
  }

  @Test
  void anUnexpectedExceptionIsATypedFailure() {
    try (BackgroundWork<Void> c = BackgroundWork.start("t", () -> {
      throw new IllegalStateException("boom");
    })) {
      CriuFailure f = assertThrows(CriuFailure.class, c::await);
      assertEquals(CriuFailure.Reason.IO_ERROR, f.reason());
      assertTrue(f.getMessage().contains("boom"), f.getMessage());
    }
  }

  @Test
  void runsOnItsOwnThreadWhileTheCallerWorks() throws Exception {
    CountDownLatch callerWorking = new CountDownLatch(1);
    try (BackgroundWork<Void> c = BackgroundWork.start("t", () -> {
      try {
        if (!callerWorking.await(10, TimeUnit.SECONDS)) { // the caller (the restore) runs meanwhile
          throw new CriuFailure(CriuFailure.Reason.IO_ERROR, "not concurrent", "");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return null;
    })) {
      callerWorking.countDown();
      c.await();
    }
  }

  @Test
  void closeAbandonsARunningCheck() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    BackgroundWork<Void> c = BackgroundWork.start("t", () -> {
      try {
        never.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return null;
    });
    c.close();
    CriuFailure f = assertThrows(CriuFailure.class, c::await);
    assertTrue(f.getMessage().contains("abandoned"), f.getMessage());
  }
}
