"""The page's inline style and its one script. Both are allowed by their sha256 in the page's
Content-Security-Policy (`reporting.page`), so editing either changes the policy with it; the script reads the
what-if counts and `reporting.svg.CURVE` from the page's JSON block and moves the sliders' markers."""
from __future__ import annotations

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 16px 48px;color:#222}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-top:12px}h3{font-size:15px}
table{border-collapse:collapse;margin:6px 0 12px}td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}
td.l,th.l{text-align:left}th{background:#f3f3f3}figure{margin:8px 0 16px}figcaption{color:#555;font-size:12px}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:8px;max-height:260px;overflow:auto}
svg text{font:11px system-ui,sans-serif;fill:#333}.note{color:#666;font-size:12px}
nav a{margin-right:10px}input[type=range]{width:560px}output{font-weight:600;margin-left:8px}
""".strip()

SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var geometry = data.whatif_curve;
  function fmt(x) { return String(Number(x.toPrecision(6))); }
  data.whatif.forEach(function (rule, i) {
    var box = document.getElementById("whatif-" + i);
    if (!box) { return; }
    var slider = box.querySelector("input");
    var output = box.querySelector("output");
    var svg = box.querySelector("svg");
    var marker = document.createElementNS("http://www.w3.org/2000/svg", "line");
    marker.setAttribute("stroke", "#111111");
    marker.setAttribute("stroke-width", "2");
    marker.setAttribute("y1", String(geometry.top));
    marker.setAttribute("y2", String(geometry.top + geometry.height));
    svg.appendChild(marker);
    var last = Math.max(1, rule.thresholds.length - 1);
    function update() {
      var k = Number(slider.value);
      var x = geometry.x0 + geometry.width * k / last;
      var change = rule.drops[k] - rule.now;
      marker.setAttribute("x1", String(x));
      marker.setAttribute("x2", String(x));
      output.textContent = "dropped when " + rule.signal + " " + rule.drops_when + " " + fmt(rule.thresholds[k]) +
        ": " + rule.drops[k] + " of " + rule.population + " documents (" + (change >= 0 ? "+" : "") + change +
        " vs now)";
    }
    slider.disabled = false;
    slider.addEventListener("input", update);
    update();
    box.setAttribute("data-js", "ready");
  });
}());
""".strip()
