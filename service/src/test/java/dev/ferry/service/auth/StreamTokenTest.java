package dev.ferry.service.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StreamTokenTest {

    @Test
    void admitsOnlyTheArmedTokenFromTheExpectedSource() throws Exception {
        StreamToken issued = StreamToken.generate();
        StreamToken armed = StreamToken.arm(issued.toByteString());
        assertNotEquals(issued.toByteString(), StreamToken.generate().toByteString());
        assertTrue(armed.admit(issued.toByteString(), "m1", "host1").isEmpty(), "no identity in context: token alone decides");
        assertEquals(Status.Code.UNAUTHENTICATED, armed.admit(ByteString.EMPTY, "m1", "host1").orElseThrow().getCode());
        assertEquals(Status.Code.PERMISSION_DENIED, armed.admit(StreamToken.generate().toByteString(), "m1", "host1").orElseThrow().getCode());
        ByteString truncated = issued.toByteString().substring(0, 31);
        assertEquals(Status.Code.PERMISSION_DENIED, armed.admit(truncated, "m1", "host1").orElseThrow().getCode());

        PeerIdentity host1 = new PeerIdentity("host1", "CN=host1", Set.of(Role.AGENT), true);
        PeerIdentity host3 = new PeerIdentity("host3", "CN=host3", Set.of(Role.AGENT), true);
        assertTrue(Context.current().withValue(PeerIdentity.CONTEXT_KEY, host1).call(() -> armed.admit(issued.toByteString(), "m1", "host1")).isEmpty());
        Status other = Context.current().withValue(PeerIdentity.CONTEXT_KEY, host3).call(() -> armed.admit(issued.toByteString(), "m1", "host1")).orElseThrow();
        assertEquals(Status.Code.PERMISSION_DENIED, other.getCode());
        assertTrue(other.getDescription().contains("not from host3"), other.getDescription());
        assertEquals("StreamToken[redacted]", armed.toString());
    }

    @Test
    void shortTokensCannotBeArmed() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> StreamToken.arm(ByteString.copyFromUtf8("secret")));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertThrows(StatusRuntimeException.class, () -> StreamToken.arm(ByteString.EMPTY));
    }
}
