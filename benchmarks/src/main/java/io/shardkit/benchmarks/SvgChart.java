package io.shardkit.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Renders throughput against concurrency as a small standalone SVG (text written here, no library):
 * one line per series, concurrency on an evenly spaced categorical x axis, throughput from 0.
 */
final class SvgChart {

  /** One line: a name and its points, concurrency → ops/s. */
  record Series(String name, Map<Integer, Double> points) {}

  private static final String[] COLORS = {
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"
  };
  private static final int WIDTH = 760;
  private static final int HEIGHT = 400;
  private static final int LEFT = 80;
  private static final int RIGHT = 250;
  private static final int TOP = 60;
  private static final int BOTTOM = 60;

  private SvgChart() {}

  static String render(String title, String yLabel, List<Series> series) {
    return render(title, null, yLabel, series);
  }

  /**
   * With a second line under the title (machine, date, mode), when {@code subtitle} is not null.
   */
  static String render(String title, String subtitle, String yLabel, List<Series> series) {
    TreeSet<Integer> xs = new TreeSet<>();
    double max = 0;
    for (Series s : series) {
      xs.addAll(s.points().keySet());
      for (double v : s.points().values()) {
        max = Math.max(max, v);
      }
    }
    double top = niceCeiling(max);
    List<Integer> xValues = new ArrayList<>(xs);
    int plotWidth = WIDTH - LEFT - RIGHT;
    int plotHeight = HEIGHT - TOP - BOTTOM;
    StringBuilder svg = new StringBuilder();
    svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"")
        .append(WIDTH)
        .append("\" height=\"")
        .append(HEIGHT)
        .append("\" viewBox=\"0 0 ")
        .append(WIDTH)
        .append(' ')
        .append(HEIGHT)
        .append("\" font-family=\"sans-serif\" font-size=\"12\">\n")
        .append("  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n")
        .append("  <text x=\"")
        .append(WIDTH / 2)
        .append("\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">")
        .append(escape(title))
        .append("</text>\n");
    if (subtitle != null) {
      svg.append("  <text x=\"")
          .append(WIDTH / 2)
          .append("\" y=\"40\" text-anchor=\"middle\" fill=\"#555555\" font-size=\"11\">")
          .append(escape(subtitle))
          .append("</text>\n");
    }
    // axes and grid
    for (int i = 0; i <= 5; i++) {
      double value = top * i / 5;
      double y = TOP + plotHeight - plotHeight * (double) i / 5;
      svg.append("  <line x1=\"")
          .append(LEFT)
          .append("\" x2=\"")
          .append(LEFT + plotWidth)
          .append("\" y1=\"")
          .append(fmt(y))
          .append("\" y2=\"")
          .append(fmt(y))
          .append("\" stroke=\"")
          .append(i == 0 ? "black" : "#dddddd")
          .append("\"/>\n")
          .append("  <text x=\"")
          .append(LEFT - 6)
          .append("\" y=\"")
          .append(fmt(y + 4))
          .append("\" text-anchor=\"end\">")
          .append(escape(label(value)))
          .append("</text>\n");
    }
    svg.append("  <line x1=\"")
        .append(LEFT)
        .append("\" x2=\"")
        .append(LEFT)
        .append("\" y1=\"")
        .append(TOP)
        .append("\" y2=\"")
        .append(TOP + plotHeight)
        .append("\" stroke=\"black\"/>\n");
    for (int i = 0; i < xValues.size(); i++) {
      double x = xPosition(i, xValues.size(), plotWidth);
      svg.append("  <text x=\"")
          .append(fmt(x))
          .append("\" y=\"")
          .append(TOP + plotHeight + 18)
          .append("\" text-anchor=\"middle\">")
          .append(xValues.get(i))
          .append("</text>\n");
    }
    svg.append("  <text x=\"")
        .append(LEFT + plotWidth / 2)
        .append("\" y=\"")
        .append(HEIGHT - 16)
        .append("\" text-anchor=\"middle\">in flight (concurrency)</text>\n")
        .append("  <text transform=\"translate(18,")
        .append(TOP + plotHeight / 2)
        .append(") rotate(-90)\" text-anchor=\"middle\">")
        .append(escape(yLabel))
        .append("</text>\n");
    // series
    for (int s = 0; s < series.size(); s++) {
      Series one = series.get(s);
      String color = COLORS[s % COLORS.length];
      StringBuilder points = new StringBuilder();
      StringBuilder dots = new StringBuilder();
      for (int i = 0; i < xValues.size(); i++) {
        Double v = one.points().get(xValues.get(i));
        if (v == null) {
          continue;
        }
        double x = xPosition(i, xValues.size(), plotWidth);
        double y = TOP + plotHeight - (top == 0 ? 0 : plotHeight * v / top);
        points.append(points.length() == 0 ? "" : " ").append(fmt(x)).append(',').append(fmt(y));
        dots.append("    <circle cx=\"")
            .append(fmt(x))
            .append("\" cy=\"")
            .append(fmt(y))
            .append("\" r=\"3.5\" fill=\"")
            .append(color)
            .append("\"><title>")
            .append(escape(one.name() + " @ " + xValues.get(i) + ": " + label(v)))
            .append("</title></circle>\n");
      }
      svg.append("  <g class=\"series\" data-name=\"")
          .append(escape(one.name()))
          .append("\">\n")
          .append("    <polyline fill=\"none\" stroke=\"")
          .append(color)
          .append("\" stroke-width=\"2\" points=\"")
          .append(points)
          .append("\"/>\n")
          .append(dots)
          .append("  </g>\n");
      int ly = TOP + 10 + 20 * s;
      int lx = LEFT + plotWidth + 16;
      svg.append("  <line x1=\"")
          .append(lx)
          .append("\" x2=\"")
          .append(lx + 20)
          .append("\" y1=\"")
          .append(ly)
          .append("\" y2=\"")
          .append(ly)
          .append("\" stroke=\"")
          .append(color)
          .append("\" stroke-width=\"2\"/>\n")
          .append("  <text x=\"")
          .append(lx + 26)
          .append("\" y=\"")
          .append(ly + 4)
          .append("\">")
          .append(escape(one.name()))
          .append("</text>\n");
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  private static double xPosition(int index, int count, int plotWidth) {
    return count == 1
        ? LEFT + plotWidth / 2.0
        : LEFT + 30 + (plotWidth - 60.0) * index / (count - 1);
  }

  /** 1, 2 or 5 times a power of ten, at least {@code max}. */
  static double niceCeiling(double max) {
    if (max <= 0) {
      return 1;
    }
    double magnitude = Math.pow(10, Math.floor(Math.log10(max)));
    for (double step : new double[] {1, 2, 5, 10}) {
      if (step * magnitude >= max) {
        return step * magnitude;
      }
    }
    return 10 * magnitude;
  }

  private static String label(double value) {
    if (value == 0) {
      return "0";
    }
    if (value >= 10_000) {
      return String.format(Locale.ROOT, "%.0fk", value / 1000);
    }
    if (value >= 100) {
      return String.format(Locale.ROOT, "%.0f", value);
    }
    return String.format(Locale.ROOT, "%.3g", value);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  static String escape(String text) {
    return text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
