package dev.ferry.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a daemon's Prometheus /metrics endpoint on loopback the way a scraper does (plain HTTP GET,
 * text format), for the tests of the agent's, the coordinator's and the served metrics.
 */
public final class MetricsScrape {
    private MetricsScrape() {
    }

    /**
     * The exposition text served at {@code http://127.0.0.1:port/metrics}, asserting status 200. A
     * closed endpoint throws {@link java.net.ConnectException} (tests check that it is gone).
     */
    public static String scrape(int port) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    /** The value of one series (name with its labels exactly as exposed) in {@code text}, failing if absent. */
    public static double value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        assertTrue(m.find(), "no series " + series + " in:\n" + text);
        return Double.parseDouble(m.group(1));
    }
}
