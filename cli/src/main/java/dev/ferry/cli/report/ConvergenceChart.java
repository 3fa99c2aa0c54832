package dev.ferry.cli.report;

import dev.ferry.cli.units.Figures;
import dev.ferry.proto.RoundEvent;
import java.util.List;
import java.util.Locale;

/**
 * A migration's convergence as a standalone SVG: dirty pages per round as bars (left axis),
 * expected downtime per round as a line (right axis), the downtime limit as a dashed line on the
 * same axis. Hand-written SVG: it is just text, and opens in any browser. Pure.
 */
public final class ConvergenceChart {
    private static final int WIDTH = 760;
    private static final int HEIGHT = 420;
    private static final int LEFT = 90;
    private static final int RIGHT = 90;
    private static final int TOP = 60;
    private static final int BOTTOM = 60;
    private static final int TICKS = 5;

    private ConvergenceChart() {
    }

    public static String svg(String title, List<RoundEvent> rounds, long downtimeLimitMillis) {
        double plotW = WIDTH - LEFT - RIGHT;
        double plotH = HEIGHT - TOP - BOTTOM;
        long maxPages = 1;
        double maxMillis = Math.max(1, downtimeLimitMillis);
        for (RoundEvent r : rounds) {
            maxPages = Math.max(maxPages, r.getFigures().getDirtyPages());
            maxMillis = Math.max(maxMillis, r.getDecision().getExpectedDowntimeMillis());
        }
        double pagesTop = niceCeiling(maxPages);
        double millisTop = niceCeiling(maxMillis * 1.05);
        int n = Math.max(1, rounds.size());
        double band = plotW / n;

        StringBuilder s = new StringBuilder(4096);
        s.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
                        + " font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
        s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>%n",
                LEFT, escape(title)));
        legend(s);

        // Axes and grid.
        for (int i = 0; i <= TICKS; i++) {
            double y = TOP + plotH - plotH * i / TICKS;
            s.append(String.format(Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>%n", LEFT, y, LEFT + plotW, y));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    LEFT - 6, y + 4, Figures.count(Math.round(pagesTop * i / TICKS))));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\">%s</text>%n",
                    LEFT + plotW + 6, y + 4, Figures.millis(millisTop * i / TICKS)));
        }
        s.append(String.format(Locale.ROOT,
                "<text x=\"20\" y=\"%.1f\" transform=\"rotate(-90 20 %.1f)\" text-anchor=\"middle\">dirty pages</text>%n",
                TOP + plotH / 2, TOP + plotH / 2));
        s.append(String.format(Locale.ROOT,
                "<text x=\"%d\" y=\"%.1f\" transform=\"rotate(90 %d %.1f)\" text-anchor=\"middle\">expected downtime</text>%n",
                WIDTH - 16, TOP + plotH / 2, WIDTH - 16, TOP + plotH / 2));
        s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">round</text>%n",
                LEFT + plotW / 2, HEIGHT - 16));

        // Bars: dirty pages.
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < rounds.size(); i++) {
            RoundEvent r = rounds.get(i);
            double x = LEFT + band * i;
            double h = plotH * r.getFigures().getDirtyPages() / pagesTop;
            s.append(String.format(Locale.ROOT,
                    "<rect class=\"dirty\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4e79a7\">"
                            + "<title>round %d: %s dirty pages</title></rect>%n",
                    x + band * 0.15, TOP + plotH - h, band * 0.7, h, r.getFigures().getRound(),
                    Figures.count(r.getFigures().getDirtyPages())));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>%n",
                    x + band / 2, TOP + plotH + 16, r.getFigures().getRound()));
            double ly = TOP + plotH - plotH * r.getDecision().getExpectedDowntimeMillis() / millisTop;
            line.append(String.format(Locale.ROOT, "%s%.1f,%.1f", i == 0 ? "" : " ", x + band / 2, ly));
        }
        // Line: expected downtime, with a marker per round.
        if (!rounds.isEmpty()) {
            s.append(String.format(Locale.ROOT,
                    "<polyline class=\"expected\" points=\"%s\" fill=\"none\" stroke=\"#f28e2b\" stroke-width=\"2.5\"/>%n",
                    line));
            for (String point : line.toString().split(" ")) {
                String[] xy = point.split(",");
                s.append(String.format(Locale.ROOT, "<circle cx=\"%s\" cy=\"%s\" r=\"3.5\" fill=\"#f28e2b\"/>%n", xy[0], xy[1]));
            }
        }
        // Dashed line: the downtime limit.
        if (downtimeLimitMillis > 0) {
            double y = TOP + plotH - plotH * downtimeLimitMillis / millisTop;
            s.append(String.format(Locale.ROOT,
                    "<line class=\"limit\" x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e15759\""
                            + " stroke-width=\"2\" stroke-dasharray=\"8 5\"/>%n", LEFT, y, LEFT + plotW, y));
            s.append(String.format(Locale.ROOT,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#e15759\">limit %s</text>%n",
                    LEFT + plotW - 4, y - 5, Figures.millis(downtimeLimitMillis)));
        }
        s.append(String.format(Locale.ROOT,
                "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888\"/>%n",
                LEFT, TOP, plotW, plotH));
        if (rounds.isEmpty()) {
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no rounds recorded</text>%n",
                    LEFT + plotW / 2, TOP + plotH / 2));
        }
        s.append("</svg>\n");
        return s.toString();
    }

    private static void legend(StringBuilder s) {
        int y = 44;
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"#4e79a7\"/>"
                + "<text x=\"%d\" y=\"%d\">dirty pages</text>%n", LEFT, y - 10, LEFT + 16, y));
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#f28e2b\" stroke-width=\"2.5\"/>"
                + "<text x=\"%d\" y=\"%d\">expected downtime</text>%n", LEFT + 110, y - 4, LEFT + 130, y - 4, LEFT + 136, y));
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#e15759\" stroke-width=\"2\""
                + " stroke-dasharray=\"8 5\"/><text x=\"%d\" y=\"%d\">downtime limit</text>%n",
                LEFT + 270, y - 4, LEFT + 300, y - 4, LEFT + 306, y));
    }

    /** The smallest 1, 2 or 5 times a power of ten that is >= v (axis top). */
    static double niceCeiling(double v) {
        if (v <= 0) {
            return 1;
        }
        double magnitude = Math.pow(10, Math.floor(Math.log10(v)));
        for (double step : new double[] {1, 2, 2.5, 5, 10}) {
            if (step * magnitude >= v) {
                return step * magnitude;
            }
        }
        return 10 * magnitude;
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
