package dev.ferry.cli.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.ferry.proto.MigrationEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonViewTest {
    @Test
    void oneParseableObjectPerLinePerEvent() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<MigrationEvent> events = Recorded.done();
        try (JsonView view = new JsonView(new PrintWriter(out), new PrintWriter(err))) {
            events.forEach(view::show);
            view.note("re-attaching");
        }
        String[] lines = out.toString().split("\n");
        assertEquals(events.size(), lines.length);
        for (int i = 0; i < lines.length; i++) {
            MigrationEvent.Builder parsed = MigrationEvent.newBuilder();
            JsonFormat.parser().merge(lines[i], parsed);
            assertEquals(events.get(i), parsed.build());
        }
        assertTrue(lines[2].contains("\"dirtyPages\":\"262144\""), lines[2]);
        assertTrue(lines[2].contains("\"zeroPages\":\"0\""), "zero-valued fields are present for scripts: " + lines[2]);
        assertEquals("re-attaching\n", err.toString(), "notes stay off stdout");
    }
}
