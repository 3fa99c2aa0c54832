package dev.ferry.agent.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.ferry.proto.Compression;
import dev.ferry.proto.DestinationAgentGrpc;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.PageBatch;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.PageStreamGrpc;
import dev.ferry.proto.PageStreamMessage;
import dev.ferry.proto.PrepareReceiveRequest;
import dev.ferry.proto.ProcessAreas;
import dev.ferry.proto.RoundHeader;
import dev.ferry.proto.RoundTrailer;
import dev.ferry.proto.SourceAgentGrpc;
import dev.ferry.proto.StoreStatusReply;
import dev.ferry.service.tls.Calls;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based hostile input against a real agent over gRPC on loopback (jqwik): mutated page
 * rounds, random bytes into every RPC, random well-typed control requests. For every case: no
 * UNKNOWN status (every failure is mapped), nothing partial in the store (a refused round leaves
 * it exactly as before, an accepted one is the claimed round), and the agent answers the next
 * valid call.
 */
class AgentFuzzTest {
  static Path dir;
  static DestinationUnderTest dest;
  static final AtomicLong rounds = new AtomicLong();
  static final AtomicLong roundsAccepted = new AtomicLong();
  static final AtomicLong rawCalls = new AtomicLong();
  static final AtomicLong controlCalls = new AtomicLong();
  static final AtomicLong unparsable = new AtomicLong();

  @BeforeContainer
  static void start() throws Exception {
    dir = Files.createTempDirectory("ferry-fuzz");
    dest = new DestinationUnderTest(dir.resolve("host2"));
  }

  @AfterContainer
  static void stop() throws IOException {
    dest.close();
    System.out.printf("fuzz cases: mutated rounds %d (%d accepted), raw-byte calls %d (%d unparsable), control calls %d%n",
        rounds.get(), roundsAccepted.get(), rawCalls.get(), unparsable.get(), controlCalls.get());
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  // ------------------------------------------------------------------ mutated page rounds

  @Property(tries = 600)
  void mutatedRoundsApplyWhollyOrNotAtAll(@ForAll("mutations") List<Long> mutations) throws Exception {
    rounds.incrementAndGet();
    StoreStatusReply before = dest.status();
    int round = before.getLastRound() + 1;
    List<PageStreamMessage> messages = new ArrayList<>(dest.validRound(round));
    Random random = new Random(mutations.hashCode());
    for (long m : mutations) {
      mutate(messages, (int) (m % 20), random, round);
    }
    DestinationUnderTest.Outcome outcome = dest.push(messages);
    assertNotEquals(Status.Code.UNKNOWN, outcome.status().getCode(), outcome.status().toString());
    StoreStatusReply after = dest.status();
    if (outcome.ok()) {
      roundsAccepted.incrementAndGet();
      int claimed = messages.get(0).getHeader().getRound();
      assertEquals(claimed, after.getLastRound(), "an accepted stream is the round its header claims");
      assertEquals(outcome.ack().getPagesHeld(), after.getPages());
    } else {
      assertEquals(before, after, "a refused stream leaves the store as it was: " + outcome.status());
    }
    // the agent answers the next valid call
    DestinationUnderTest.Outcome next = dest.push(dest.validRound(after.getLastRound() + 1));
    assertTrue(next.ok(), "valid round after a hostile one: " + next.status());
  }

  @Provide
  Arbitrary<List<Long>> mutations() {
    return Arbitraries.longs().between(0, Long.MAX_VALUE).list().ofMinSize(1).ofMaxSize(4);
  }

  private static void mutate(List<PageStreamMessage> messages, int kind, Random r, int round) {
    if (messages.isEmpty()) {
      messages.add(PageStreamMessage.getDefaultInstance());
      return;
    }
    int i = r.nextInt(messages.size());
    PageStreamMessage m = messages.get(i);
    switch (kind) {
      case 0 -> messages.remove(i);
      case 1 -> messages.add(r.nextInt(messages.size() + 1), m);
      case 2 -> {
        int j = r.nextInt(messages.size());
        messages.set(i, messages.get(j));
        messages.set(j, m);
      }
      case 3 -> messages.set(i, PageStreamMessage.newBuilder().setBatch(randomBatch(r)).build());
      case 4 -> messages.add(r.nextInt(messages.size() + 1), PageStreamMessage.getDefaultInstance());
      default -> messages.set(i, mutateOne(m, kind, r, round));
    }
  }

  private static PageStreamMessage mutateOne(PageStreamMessage m, int kind, Random r, int round) {
    switch (m.getKindCase()) {
      case HEADER -> {
        RoundHeader.Builder h = m.getHeader().toBuilder();
        switch (kind % 5) {
          case 0 -> h.setStreamToken(ByteString.copyFrom(bytes(r, r.nextInt(40))));
          case 1 -> h.setRound(round + r.nextInt(11) - 5); // bounded: a huge round would legitimately end the migration's rounds
          case 2 -> h.setCompressionValue(r.nextInt(4));
          case 3 -> h.setProcesses(0, ProcessAreas.newBuilder().setPid(r.nextBoolean() ? DestinationUnderTest.PID : r.nextInt())
              .addAreas(dev.ferry.proto.AddressRange.newBuilder().setStart(r.nextLong()).setEnd(r.nextLong())));
          default -> h.addProcesses(ProcessAreas.newBuilder().setPid(DestinationUnderTest.PID)
              .addRemoved(dev.ferry.proto.AddressRange.newBuilder().setStart(r.nextLong()).setEnd(r.nextLong())));
        }
        return PageStreamMessage.newBuilder().setHeader(h).build();
      }
      case BATCH -> {
        PageBatch.Builder b = m.getBatch().toBuilder();
        if (b.getRunsCount() == 0) {
          b.addRuns(PageRun.newBuilder().setAddress(DestinationUnderTest.AREA_START).setPages(1));
        }
        int run = r.nextInt(b.getRunsCount());
        switch (kind % 8) {
          case 0 -> b.setRuns(run, b.getRuns(run).toBuilder().setAddress(r.nextBoolean() ? r.nextLong()
              : b.getRuns(run).getAddress() + (r.nextInt(33) - 16) * (long) DestinationUnderTest.PAGE));
          case 1 -> b.setRuns(run, b.getRuns(run).toBuilder().setPages(r.nextBoolean() ? r.nextInt() : r.nextInt(8)));
          case 2 -> b.setRuns(run, b.getRuns(run).toBuilder().setZero(!b.getRuns(run).getZero()));
          case 3 -> b.setCrc32C(r.nextInt());
          case 4 -> b.setSequence(r.nextInt(4) - 1);
          case 5 -> b.setData(ByteString.copyFrom(bytes(r, r.nextInt(3 * DestinationUnderTest.PAGE + 1))));
          case 6 -> b.setUncompressedLength(r.nextInt());
          default -> b.setPid(r.nextInt());
        }
        return PageStreamMessage.newBuilder().setBatch(b).build();
      }
      case TRAILER -> {
        RoundTrailer.Builder t = m.getTrailer().toBuilder();
        if (r.nextBoolean()) {
          t.setBatches(r.nextInt(5) - 1);
        } else {
          t.setPages(r.nextBoolean() ? r.nextLong() : r.nextInt(10));
        }
        return PageStreamMessage.newBuilder().setTrailer(t).build();
      }
      default -> {
        return m;
      }
    }
  }

  private static PageBatch randomBatch(Random r) {
    PageBatch.Builder b = PageBatch.newBuilder().setPid(r.nextBoolean() ? DestinationUnderTest.PID : r.nextInt())
        .setSequence(r.nextInt(3)).setCrc32C(r.nextInt()).setUncompressedLength(r.nextInt(3 * DestinationUnderTest.PAGE));
    int runs = r.nextInt(4);
    for (int i = 0; i < runs; i++) {
      b.addRuns(PageRun.newBuilder().setAddress(DestinationUnderTest.AREA_START + r.nextInt(80) * (long) DestinationUnderTest.PAGE)
          .setPages(r.nextInt(5)).setZero(r.nextBoolean()));
    }
    return b.setData(ByteString.copyFrom(bytes(r, r.nextInt(2 * DestinationUnderTest.PAGE)))).build();
  }

  private static byte[] bytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  // ------------------------------------------------------------------ random bytes into every RPC

  static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  static final List<MethodDescriptor<?, ?>> METHODS = Stream.of(SourceAgentGrpc.getServiceDescriptor(),
      DestinationAgentGrpc.getServiceDescriptor(), PageStreamGrpc.getServiceDescriptor())
      .flatMap(s -> s.getMethods().stream()).toList();

  @Property(tries = 400)
  void randomBytesIntoAnyRpc(@ForAll("methodIndex") int method, @ForAll("payloads") List<byte[]> payloads) throws Exception {
    rawCalls.incrementAndGet();
    MethodDescriptor<?, ?> real = METHODS.get(method);
    String name = real.getFullMethodName();
    if (name.endsWith("/Restore") || name.endsWith("/Discard")) {
      // random bytes could, in theory, name the fuzzed migration; these two are covered by the typed property
      payloads = List.of(MigrationRef.newBuilder().setMigrationId("m-raw").build().toByteArray());
    }
    StoreStatusReply before = dest.status();
    MethodDescriptor<byte[], byte[]> raw = real.toBuilder(RAW, RAW).build();
    boolean single = real.getType() == MethodDescriptor.MethodType.UNARY || real.getType() == MethodDescriptor.MethodType.SERVER_STREAMING;
    List<byte[]> sent = single ? payloads.subList(0, 1) : payloads;
    Status status = call(raw, sent);
    Message prototype = (Message) ((MethodDescriptor.PrototypeMarshaller<?>) real.getRequestMarshaller()).getMessagePrototype();
    boolean parses = sent.stream().allMatch(bytes -> {
      try {
        prototype.getParserForType().parseFrom(bytes);
        return true;
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        return false;
      }
    });
    if (parses) {
      assertNotEquals(Status.Code.UNKNOWN, status.getCode(), name + ": " + status);
    } else {
      unparsable.incrementAndGet();
      // grpc-java itself answers a request it cannot parse with UNKNOWN "Application error
      // processing RPC" before any Ferry code runs (a stream may also have been refused earlier,
      // on a message that did parse); either way the store check below must hold.
      assertTrue(!status.isOk() || !single, name + " accepted bytes that do not parse: " + status);
    }
    assertEquals(before, dest.status(), name + " with random bytes changed the fuzzed store");
  }

  @Provide
  Arbitrary<Integer> methodIndex() {
    return Arbitraries.integers().between(0, METHODS.size() - 1);
  }

  @Provide
  Arbitrary<List<byte[]>> payloads() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(300).list().ofMinSize(1).ofMaxSize(3);
  }

  private static Status call(MethodDescriptor<byte[], byte[]> method, List<byte[]> messages) throws Exception {
    return Calls.call(dest.channel(), method, messages);
  }

  // ------------------------------------------------------------------ random well-typed control requests

  @Property(tries = 400)
  void randomControlRequests(@ForAll("controlRequests") Message request) throws Exception {
    controlCalls.incrementAndGet();
    StoreStatusReply before = dest.status();
    MethodDescriptor<?, ?> method = METHODS.stream()
        .filter(m -> m.getType() == MethodDescriptor.MethodType.UNARY)
        .filter(m -> ((MethodDescriptor.PrototypeMarshaller<?>) m.getRequestMarshaller()).getMessagePrototype().getClass() == request.getClass())
        .skip(Math.floorMod(request.hashCode(), 3)).findFirst()
        .orElseGet(() -> METHODS.stream().filter(m -> m.getType() == MethodDescriptor.MethodType.UNARY)
            .filter(m -> ((MethodDescriptor.PrototypeMarshaller<?>) m.getRequestMarshaller()).getMessagePrototype().getClass() == request.getClass())
            .findFirst().orElseThrow());
    Status status = call(method.toBuilder(RAW, RAW).build(), List.of(request.toByteArray()));
    assertNotEquals(Status.Code.UNKNOWN, status.getCode(), method.getFullMethodName() + " " + request + ": " + status);
    assertEquals(before, dest.status(), method.getFullMethodName() + " changed the fuzzed store");
  }

  @Provide
  Arbitrary<Message> controlRequests() {
    Arbitrary<String> ids = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(40),
        Arbitraries.of("m-other", "../../etc", "", ".", "a/b", "m\u0000x", "x".repeat(300)));
    Arbitrary<Integer> ints = Arbitraries.oneOf(Arbitraries.integers(), Arbitraries.integers().between(-2, 200));
    Arbitrary<Long> longs = Arbitraries.longs();
    Arbitrary<byte[]> tokens = Arbitraries.bytes().array(byte[].class).ofMaxSize(48);
    return Arbitraries.oneOf(
        ids.map(id -> MigrationRef.newBuilder().setMigrationId(id).build()),
        ints.map(pid -> dev.ferry.proto.InspectProcessRequest.newBuilder().setPid(pid).build()),
        net.jqwik.api.Combinators.combine(ids, ints, tokens, longs).as((id, n, token, l) -> (Message) dev.ferry.proto.StartTrackingRequest.newBuilder()
            .setMigrationId(id).setPid(n).setDestinationAddress(id + ":" + n).setDestinationHost(id).setStreamToken(ByteString.copyFrom(token))
            .setBandwidthLimitBytesPerSec(l).setCompressionValue(Math.floorMod(n, 4)).setDryRun(n % 2 == 0).build()),
        net.jqwik.api.Combinators.combine(ids, ints).as((id, n) -> (Message) dev.ferry.proto.RunRoundRequest.newBuilder().setMigrationId(id).setRound(n).build()),
        net.jqwik.api.Combinators.combine(ids, ints).as((id, n) -> (Message) dev.ferry.proto.ThrottleRequest.newBuilder().setMigrationId(id).setPercent(n).build()),
        net.jqwik.api.Combinators.combine(ids, ints).as((id, n) -> (Message) dev.ferry.proto.CheckpointRequest.newBuilder().setMigrationId(id).setFinalRound(n).build()),
        net.jqwik.api.Combinators.combine(ids, tokens, longs).as((id, token, l) -> (Message) PrepareReceiveRequest.newBuilder()
            .setMigrationId(id).setStreamToken(ByteString.copyFrom(token)).setSourceHost(id).setExpectedBytes(l).build()),
        Arbitraries.just(dev.ferry.proto.DescribeRequest.getDefaultInstance()));
  }

  static {
    // keep the enum referenced: compression values beyond the known ones are part of the fuzz
    assert Compression.values().length > 0;
  }
}
