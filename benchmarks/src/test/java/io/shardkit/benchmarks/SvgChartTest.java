package io.shardkit.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class SvgChartTest {

  static Document parse(String xml) throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setNamespaceAware(true);
    return factory
        .newDocumentBuilder()
        .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void rendersWellFormedSvgWithOneLinePerSeries() throws Exception {
    String svg =
        SvgChart.render(
            "Transfer <local & XA>",
            "operations per second",
            List.of(
                new SvgChart.Series("local", Map.of(1, 800.0, 16, 4000.0, 64, 5000.0)),
                new SvgChart.Series("shardkit \"XA\"", Map.of(1, 300.0, 16, 2000.0)),
                new SvgChart.Series("TCC", Map.of(16, 1000.0))));
    Document doc = parse(svg);
    Element root = doc.getDocumentElement();
    assertThat(root.getLocalName()).isEqualTo("svg");
    assertThat(root.getNamespaceURI()).isEqualTo("http://www.w3.org/2000/svg");
    NodeList lines = doc.getElementsByTagNameNS("*", "polyline");
    assertThat(lines.getLength()).isEqualTo(3);
    List<String> names = new ArrayList<>();
    NodeList groups = doc.getElementsByTagNameNS("*", "g");
    for (int i = 0; i < groups.getLength(); i++) {
      names.add(((Element) groups.item(i)).getAttribute("data-name"));
    }
    assertThat(names).containsExactly("local", "shardkit \"XA\"", "TCC");
    assertThat(((Element) lines.item(0)).getAttribute("points").split(" ")).hasSize(3);
    assertThat(((Element) lines.item(1)).getAttribute("points").split(" ")).hasSize(2);
    assertThat(doc.getElementsByTagNameNS("*", "circle").getLength()).isEqualTo(6);
    assertThat(root.getTextContent()).contains("Transfer <local & XA>", "16", "64");
  }

  @Test
  void higherThroughputIsDrawnHigher() throws Exception {
    Document doc =
        parse(
            SvgChart.render(
                "t", "ops/s", List.of(new SvgChart.Series("s", Map.of(1, 10.0, 16, 90.0)))));
    String[] points =
        ((Element) doc.getElementsByTagNameNS("*", "polyline").item(0))
            .getAttribute("points")
            .split(" ");
    double y1 = Double.parseDouble(points[0].split(",")[1]);
    double y16 = Double.parseDouble(points[1].split(",")[1]);
    assertThat(y16).isLessThan(y1);
  }

  @Test
  void niceCeiling() {
    assertThat(SvgChart.niceCeiling(0)).isEqualTo(1);
    assertThat(SvgChart.niceCeiling(7)).isEqualTo(10);
    assertThat(SvgChart.niceCeiling(1200)).isEqualTo(2000);
    assertThat(SvgChart.niceCeiling(4100)).isEqualTo(5000);
    assertThat(SvgChart.niceCeiling(5000)).isEqualTo(5000);
  }

  @Test
  void runnerWritesOneChartPerGroup(@TempDir Path dir) throws Exception {
    List<Path> files =
        BenchmarkRunner.writeCharts(SummaryTest.fixture(), dir, "box, 2026-01-01, full");
    assertThat(files)
        .extracting(p -> p.getFileName().toString())
        .containsExactly("point-select.svg", "scatter.svg", "transfer.svg");
    Document transfer = parse(Files.readString(dir.resolve("transfer.svg")));
    assertThat(transfer.getElementsByTagNameNS("*", "polyline").getLength()).isEqualTo(4);
    assertThat(transfer.getDocumentElement().getTextContent())
        .contains("ShardingSphere XA", "box, 2026-01-01, full");
  }
}
