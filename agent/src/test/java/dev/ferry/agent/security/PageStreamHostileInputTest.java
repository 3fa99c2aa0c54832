package dev.ferry.agent.security;

import static dev.ferry.agent.security.DestinationUnderTest.AREA_PAGES;
import static dev.ferry.agent.security.DestinationUnderTest.AREA_START;
import static dev.ferry.agent.security.DestinationUnderTest.PAGE;
import static dev.ferry.agent.security.DestinationUnderTest.batch;
import static dev.ferry.agent.security.DestinationUnderTest.of;
import static dev.ferry.agent.security.DestinationUnderTest.run;
import static dev.ferry.agent.security.DestinationUnderTest.trailer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ferry.proto.AddressRange;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.PageStreamMessage;
import dev.ferry.proto.ProcessAreas;
import dev.ferry.proto.StoreStatusReply;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile page streams against a real destination agent over gRPC: each is refused with a
 * status naming the problem, nothing of it reaches the store, and the agent then accepts the next
 * valid round. Rounds are numbered upward across the tests (the store keeps its last round).
 */
class PageStreamHostileInputTest {
  @TempDir static Path dir;
  static DestinationUnderTest dest;
  static int nextRound = 1;

  @BeforeAll
  static void start() throws Exception {
    dest = new DestinationUnderTest(dir.resolve("host2"));
  }

  @AfterAll
  static void stop() {
    dest.close();
  }

  /** Sends {@code hostile}, expects {@code code} with {@code words} in the description, store unchanged, then a valid round works. */
  private static void refused(List<PageStreamMessage> hostile, Status.Code code, String words) throws Exception {
    StoreStatusReply before = dest.status();
    DestinationUnderTest.Outcome outcome = dest.push(hostile);
    assertEquals(code, outcome.status().getCode(), String.valueOf(outcome.status()));
    assertTrue(String.valueOf(outcome.status().getDescription()).contains(words), outcome.status().getDescription());
    assertEquals(before, dest.status(), "nothing of a refused stream reaches the store");
    int round = nextRound++;
    DestinationUnderTest.Outcome valid = dest.push(dest.validRound(round));
    assertTrue(valid.ok(), "the agent accepts the next valid round: " + valid.status());
    assertEquals(round, valid.ack().getRound());
    assertEquals(round, dest.status().getLastRound());
  }

  private static int round() {
    return nextRound; // the round the hostile stream claims: the next one the store would accept
  }

  @Test
  void noTokenWrongTokenUnknownMigration() throws Exception {
    refused(List.of(of(DestinationUnderTest.header(round()))), Status.Code.PERMISSION_DENIED, "stream token");
    refused(List.of(of(DestinationUnderTest.header(round()).setStreamToken(ByteString.copyFromUtf8("guess")))),
        Status.Code.PERMISSION_DENIED, "stream token");
    refused(List.of(of(dest.armedHeader(round()).setMigrationId("m-unknown"))), Status.Code.PERMISSION_DENIED, "m-unknown");
  }

  @Test
  void pagesOutsideTheAnnouncedAreas() throws Exception {
    long after = AREA_START + AREA_PAGES * PAGE;
    refused(List.of(of(dest.armedHeader(round())), of(batch(0, (byte) 1, run(after, 1, false))), trailer(1, 1)),
        Status.Code.FAILED_PRECONDITION, "outside the areas");
    refused(List.of(of(dest.armedHeader(round())), of(batch(0, (byte) 1, run(after - PAGE, 2, false))), trailer(1, 2)),
        Status.Code.FAILED_PRECONDITION, "outside the areas");
    refused(List.of(of(dest.armedHeader(round())), of(batch(0, (byte) 1, run(AREA_START, 1, false)).toBuilder().setPid(1).build()), trailer(1, 1)),
        Status.Code.FAILED_PRECONDITION, "outside the areas");
  }

  @Test
  void unalignedEmptyAndOverflowingRuns() throws Exception {
    refused(List.of(of(dest.armedHeader(round())), of(batch(0, (byte) 1, run(AREA_START + 1, 1, false))), trailer(1, 1)),
        Status.Code.FAILED_PRECONDITION, "not page aligned");
    refused(List.of(of(dest.armedHeader(round())), of(batch(0, (byte) 1, run(AREA_START, 0, true))), trailer(1, 0)),
        Status.Code.FAILED_PRECONDITION, "empty");
    // uint32 0xFFFFFFFF pages: 16 TiB of zero pages, read as -1 by a signed int
    refused(List.of(of(dest.armedHeader(round())), of(batch(0, (byte) 1, run(AREA_START, -1, true))), trailer(1, 0)),
        Status.Code.FAILED_PRECONDITION, "more than");
    // A run that wraps past 2^64 inside an area announced at the very top of the address space.
    long top = -16L * PAGE; // 0xFFFF...F0000
    refused(List.of(of(dest.armedHeader(round()).addProcesses(ProcessAreas.newBuilder().setPid(77)
            .addAreas(AddressRange.newBuilder().setStart(top).setEnd(-PAGE)))),
        of(batch(0, (byte) 1, run(top, 32, true)).toBuilder().setPid(77).build()), trailer(1, 32)),
        Status.Code.FAILED_PRECONDITION, "wraps");
    // 2^31-1 zero pages inside a 128 TiB area: legal-looking, but one batch may not name that much.
    refused(List.of(of(dest.armedHeader(round()).addProcesses(ProcessAreas.newBuilder().setPid(78)
            .addAreas(AddressRange.newBuilder().setStart(0x10000).setEnd(1L << 47)))),
        of(batch(0, (byte) 1, run(0x10000, Integer.MAX_VALUE, true)).toBuilder().setPid(78).build()), trailer(1, Integer.MAX_VALUE)),
        Status.Code.FAILED_PRECONDITION, "more than");
  }

  @Test
  void overlappingRunsInOneBatch() throws Exception {
    refused(List.of(of(dest.armedHeader(round())),
            of(batch(0, (byte) 1, run(AREA_START, 4, false), run(AREA_START + 2L * PAGE, 1, false))), trailer(1, 5)),
        Status.Code.FAILED_PRECONDITION, "overlap");
    refused(List.of(of(dest.armedHeader(round())),
            of(batch(0, (byte) 1, run(AREA_START + 8L * PAGE, 2, true), run(AREA_START, 9, true))), trailer(1, 11)),
        Status.Code.FAILED_PRECONDITION, "overlap");
  }

  @Test
  void countsThatDoNotAddUp() throws Exception {
    refused(List.of(of(dest.armedHeader(round())), of(batch(0, (byte) 1, run(AREA_START, 1, false))), trailer(1, 7)),
        Status.Code.DATA_LOSS, "arrived");
    refused(List.of(of(dest.armedHeader(round())), of(batch(5, (byte) 1, run(AREA_START, 1, false))), trailer(1, 1)),
        Status.Code.DATA_LOSS, "expected");
    PageStreamMessage damaged = of(batch(0, (byte) 1, run(AREA_START, 1, false)).toBuilder().setCrc32C(12345).build());
    refused(List.of(of(dest.armedHeader(round())), damaged, trailer(1, 1)), Status.Code.DATA_LOSS, "CRC32C");
    refused(List.of(of(dest.armedHeader(round())), of(batch(0, (byte) 1, run(AREA_START, 1, false)))),
        Status.Code.FAILED_PRECONDITION, "without a RoundTrailer");
    refused(List.of(of(batch(0, (byte) 1, run(AREA_START, 1, false)))), Status.Code.INVALID_ARGUMENT, "RoundHeader");
    refused(List.of(PageStreamMessage.getDefaultInstance()), Status.Code.INVALID_ARGUMENT, "empty");
  }

  @Test
  void aRoundWhoseDigestDiffersFromTheSourcesIsRefused() throws Exception {
    List<PageStreamMessage> wrong = new java.util.ArrayList<>(dest.validRound(round()));
    PageStreamMessage trailer = wrong.get(wrong.size() - 1);
    wrong.set(wrong.size() - 1, PageStreamMessage.newBuilder()
        .setTrailer(trailer.getTrailer().toBuilder().setSourceDigest("0123456789abcdef")).build());
    refused(wrong, Status.Code.DATA_LOSS, "would hold digest");
  }

  @Test
  void replayedAndOldRounds() throws Exception {
    int done = nextRound++;
    assertTrue(dest.push(dest.validRound(done)).ok());
    refused(dest.validRound(done), Status.Code.FAILED_PRECONDITION, "not after the last stored round");
    refused(dest.validRound(0), Status.Code.FAILED_PRECONDITION, "not after the last stored round");
    refused(dest.validRound(-5), Status.Code.FAILED_PRECONDITION, "not after the last stored round");
  }

  @Test
  void noStreamAfterTheSwitchOverStarted() throws Exception {
    String id = "m-switched";
    dest.prepare(id);
    // Restore fails here (no CRIU in this build) but the switch-over has begun: the token is disarmed.
    StatusRuntimeException restore = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> dest.destination().restore(MigrationRef.newBuilder().setMigrationId(id).build()));
    assertTrue(restore.getStatus().getCode() != Status.Code.UNKNOWN, restore.getStatus().toString());
    DestinationUnderTest.Outcome late = dest.push(List.of(of(dest.armedHeader(1).setMigrationId(id))));
    assertEquals(Status.Code.PERMISSION_DENIED, late.status().getCode(), late.status().toString());
  }

  @Test
  void shortTokensAreNotArmed() {
    StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> dest.destination().prepareReceive(dev.ferry.proto.PrepareReceiveRequest.newBuilder().setMigrationId("m-short")
            .setStreamToken(ByteString.copyFromUtf8("1234")).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
  }
}
