package dev.ferry.cli.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.cli.render.Recorded;
import dev.ferry.proto.RoundEvent;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.IntStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class ConvergenceChartTest {
    private static Document parse(String svg) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<Element> byClass(Document d, String tag, String cls) {
        NodeList all = d.getElementsByTagName(tag);
        return IntStream.range(0, all.getLength()).mapToObj(i -> (Element) all.item(i))
                .filter(e -> cls.equals(e.getAttribute("class"))).toList();
    }

    @Test
    void barPerRoundLineOfExpectedDowntimeAndTheLimit() throws Exception {
        List<RoundEvent> rounds = IntStream.rangeClosed(1, 5).mapToObj(Recorded::round).toList();
        Document d = parse(ConvergenceChart.svg("migration <m-0001> & co", rounds, 300));
        List<Element> bars = byClass(d, "rect", "dirty");
        assertEquals(5, bars.size());
        // Bars shrink like the dirty set; the first (the largest) is the full plot height.
        for (int i = 1; i < bars.size(); i++) {
            assertTrue(height(bars.get(i)) < height(bars.get(i - 1)));
        }
        String[] points = byClass(d, "polyline", "expected").get(0).getAttribute("points").split(" ");
        assertEquals(5, points.length);
        double limitY = Double.parseDouble(byClass(d, "line", "limit").get(0).getAttribute("y1"));
        // SVG y grows downwards: round 1 (1800 ms) is above the limit line, round 5 (12 ms) below.
        assertTrue(y(points[0]) < limitY && y(points[4]) > limitY, limitY + " " + String.join(" ", points));
        assertTrue(d.getDocumentElement().getTextContent().contains("limit 300 ms"));
        assertTrue(d.getDocumentElement().getTextContent().contains("migration <m-0001> & co"));
    }

    @Test
    void noRoundsStillMakesAValidChart() throws Exception {
        Document d = parse(ConvergenceChart.svg("empty", List.of(), 300));
        assertTrue(d.getDocumentElement().getTextContent().contains("no rounds recorded"));
    }

    @Test
    void niceAxisTops() {
        assertEquals(500_000, ConvergenceChart.niceCeiling(262_144));
        assertEquals(250_000, ConvergenceChart.niceCeiling(240_000));
        assertEquals(2_000, ConvergenceChart.niceCeiling(1_890));
        assertEquals(1, ConvergenceChart.niceCeiling(0));
    }

    private static double height(Element e) {
        return Double.parseDouble(e.getAttribute("height"));
    }

    private static double y(String point) {
        return Double.parseDouble(point.split(",")[1]);
    }
}
