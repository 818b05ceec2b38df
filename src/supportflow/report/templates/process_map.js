// The interactive process map: builds DOT from the report's directly-follows data and lays it
// out with the inlined Graphviz WebAssembly build each time the reader changes the view or the
// rare-path threshold. Activity names are the user's text: they only ever reach the page as
// DOT strings (escaped below) that Graphviz writes into SVG as escaped XML text, and the SVG is
// parsed as XML, never assigned to innerHTML.

const mapData = JSON.parse(document.getElementById("sf-map-data").textContent);
const text = mapData.text;
const units = mapData.units;
const START = -1;
const END = -2;

const els = {
  container: document.getElementById("map-canvas"),
  status: document.getElementById("map-status"),
  error: document.getElementById("map-error"),
  legend: document.getElementById("map-legend"),
  floor: document.getElementById("map-floor"),
  slider: document.getElementById("map-threshold"),
  thresholdValue: document.getElementById("map-threshold-value"),
  views: Array.from(document.querySelectorAll("input[name=map-view]")),
};

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
}

function formatCount(value) {
  return Math.round(value).toLocaleString("en-US");
}

// Same rule as supportflow.report.formatting.NumberFormat.duration.
function shortNumber(value) {
  return Math.abs(value) < 9.95 ? value.toFixed(1) : formatCount(value);
}

function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const magnitude = Math.abs(seconds);
  for (const [size, unit] of [[86400, units.d], [3600, units.h], [60, units.min]]) {
    if (magnitude >= size) return `${shortNumber(seconds / size)} ${unit}`;
  }
  return `${shortNumber(seconds)} ${units.s}`;
}

function dotString(value) {
  // A DOT quoted string: escape backslashes (Graphviz reads \n, \N, \G... in labels) and
  // quotes, and fold line breaks so that a name cannot end the string or the statement.
  return '"' + String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/[\r\n]+/g, " ") + '"';
}

// All arrows, including those from "start" and to "end", as one list.
const arrows = [
  ...mapData.edges.map(([source, target, count, median, total, p90]) => ({ source, target, count, median, total, p90 })),
  ...mapData.starts.map(([target, count]) => ({ source: START, target, count, median: null, total: null, p90: null })),
  ...mapData.ends.map(([source, count]) => ({ source, target: END, count, median: null, total: null, p90: null })),
];
// The slider's stops: each distinct arrow count, from the lowest that keeps at most
// max_drawn_arrows arrows (dot needs seconds per hundred arrows beyond that) to the highest.
const thresholds = (() => {
  const counts = Array.from(new Set(arrows.map((arrow) => arrow.count))).sort((a, b) => a - b);
  const drawable = counts.filter(
    (count) => arrows.filter((arrow) => arrow.count >= count).length <= mapData.max_drawn_arrows
  );
  return drawable.length > 0 ? drawable : counts.slice(-1);
})();

function strongest(candidates) {
  return candidates.reduce((best, arrow) => (best === null || arrow.count > best.count ? arrow : best), null);
}

// Arrows followed at least `threshold` times and the activities they join. An activity left
// without a way in (or out) also gets its most frequent arrow from (or to) an activity already
// on the map, start and end included, so that boxes do not float unconnected. Those arrows
// never bring in new activities: on a log with hundreds of activities that would cascade
// into the whole graph.
function visibleGraph(threshold) {
  const kept = new Set(arrows.filter((arrow) => arrow.count >= threshold));
  const shown = new Set([START, END]);
  for (const arrow of kept) {
    shown.add(arrow.source);
    shown.add(arrow.target);
  }
  for (const node of shown) {
    if (node < 0) continue;
    for (const [side, other] of [["target", "source"], ["source", "target"]]) {
      const touching = arrows.filter((arrow) => arrow[side] === node && arrow[other] !== node);
      if (touching.some((arrow) => kept.has(arrow))) continue;
      const best = strongest(touching.filter((arrow) => shown.has(arrow[other])));
      if (best !== null) kept.add(best);
    }
  }
  return { nodes: shown, arrows: Array.from(kept) };
}

function nodeId(node) {
  return node === START ? "start" : node === END ? "end" : `n${node}`;
}

function mix(low, high, fraction) {
  const channel = (i) => Math.round(low[i] + (high[i] - low[i]) * fraction).toString(16).padStart(2, "0");
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}

function buildDot(graph, view) {
  const lines = [
    "digraph process {",
    // Past a hundred arrows, cap dot's crossing and ranking passes: a slightly busier
    // drawing in a second rather than a tidy one in twenty.
    `  graph [rankdir=TB, nodesep=0.35, ranksep=0.45, bgcolor="transparent"${
      graph.arrows.length > 100 ? ", mclimit=0.2, nslimit=2, nslimit1=2" : ""
    }];`,
    '  node [shape=box, style="rounded,filled", fontname="Helvetica,Arial,sans-serif", fontsize=11, color="#4a6a8a"];',
    '  edge [fontname="Helvetica,Arial,sans-serif", fontsize=9, arrowsize=0.7];',
    `  start [label=${dotString(text.map_start)}, shape=circle, fillcolor="#d8f0d8", color="#3c8c3c", fontsize=9];`,
    `  end [label=${dotString(text.map_end)}, shape=doublecircle, fillcolor="#f6dada", color="#a04040", fontsize=9];`,
  ];
  const maxEvents = Math.max(1, ...mapData.activities.map(([, events]) => events));
  for (const node of graph.nodes) {
    if (node < 0) continue;
    const [name, events] = mapData.activities[node];
    const fraction = Math.sqrt(events / maxEvents);
    // The name and the event count on two lines: "\\n" is DOT's own line break.
    const label = `${dotString(name).slice(0, -1)}\\n${formatCount(events)}"`;
    const tooltip = fill(text.map_tip_node, { name, events: formatCount(events) });
    lines.push(
      `  ${nodeId(node)} [label=${label}, tooltip=${dotString(tooltip)}, ` +
        `fillcolor="${mix([235, 243, 251], [107, 160, 205], fraction)}"];`
    );
  }
  const counts = graph.arrows.map((arrow) => arrow.count);
  const maxCount = Math.max(1, ...counts);
  const maxTotal = Math.max(1, ...graph.arrows.map((arrow) => arrow.total || 0));
  for (const arrow of graph.arrows) {
    const attributes = [];
    const name = (node) => (node === START ? text.map_start : node === END ? text.map_end : mapData.activities[node][0]);
    const tooltip = fill(text.map_tip_edge, {
      source: name(arrow.source),
      target: name(arrow.target),
      count: formatCount(arrow.count),
      median: formatDuration(arrow.median),
      p90: formatDuration(arrow.p90),
      total: formatDuration(arrow.total),
    });
    attributes.push(`tooltip=${dotString(tooltip)}`);
    const artificial = arrow.source === START || arrow.target === END;
    // Heavier arrows are kept short and straight by dot, so the main flow reads top to bottom.
    attributes.push(`weight=${1 + Math.round(9 * Math.log(1 + arrow.count) / Math.log(1 + maxCount))}`);
    if (view === "waiting") {
      const fraction = arrow.total === null ? 0 : Math.sqrt(arrow.total / maxTotal);
      attributes.push(`label=${dotString(artificial ? "" : formatDuration(arrow.median))}`);
      attributes.push(`color="${artificial ? "#bbbbbb" : mix([190, 190, 190], [200, 30, 30], fraction)}"`);
      attributes.push(`penwidth=${(1 + 5 * fraction).toFixed(2)}`);
      if (artificial) attributes.push('style="dashed"');
    } else {
      const fraction = Math.log(1 + arrow.count) / Math.log(1 + maxCount);
      attributes.push(`label=${dotString(formatCount(arrow.count))}`);
      attributes.push(`color="${mix([170, 180, 195], [40, 60, 90], fraction)}"`);
      attributes.push(`penwidth=${(0.8 + 5 * fraction).toFixed(2)}`);
      if (artificial) attributes.push('style="dashed"');
    }
    lines.push(`  ${nodeId(arrow.source)} -> ${nodeId(arrow.target)} [${attributes.join(", ")}];`);
  }
  lines.push("}");
  return lines.join("\n");
}

function showError(error) {
  const message = error instanceof Error ? error.message : String(error);
  els.error.textContent = `${text.map_error} ${message}`;
  els.error.hidden = false;
  els.container.dataset.state = "error";
  console.error("process map:", error);
}

let graphviz = null;
let renders = 0;

function currentThreshold() {
  return thresholds.length > 0 ? thresholds[Number(els.slider.value)] : 1;
}

function currentView() {
  const checked = els.views.find((input) => input.checked);
  return checked ? checked.value : "frequency";
}

function render() {
  const threshold = currentThreshold();
  const view = currentView();
  els.thresholdValue.textContent = formatCount(threshold);
  els.legend.textContent = view === "waiting" ? text.map_legend_waiting : text.map_legend_frequency;
  try {
    const graph = visibleGraph(threshold);
    const svgText = graphviz.dot(buildDot(graph, view));
    const parsed = new DOMParser().parseFromString(svgText, "image/svg+xml");
    const failure = parsed.querySelector("parsererror");
    if (failure) throw new Error(failure.textContent);
    const svg = document.importNode(parsed.documentElement, true);
    svg.setAttribute("role", "img");
    els.container.replaceChildren(svg);
    const activities = Array.from(graph.nodes).filter((node) => node >= 0).length;
    const paths = graph.arrows.filter((arrow) => arrow.source >= 0 && arrow.target >= 0).length;
    els.status.textContent = fill(text.map_status, {
      activities: formatCount(activities),
      paths: formatCount(paths),
      total: formatCount(mapData.total_edges),
    });
    Object.assign(els.container.dataset, {
      state: "ready",
      view,
      threshold: String(threshold),
      nodes: String(graph.nodes.size),
      arrows: String(graph.arrows.length),
      renders: String(++renders),
    });
    els.error.hidden = true;
  } catch (error) {
    showError(error);
  }
}

function initialSliderPosition() {
  // The lowest threshold that keeps the map readable (see DEFAULT_VISIBLE_EDGES), counting
  // the arrows from start and to end too.
  for (let i = 0; i < thresholds.length; i++) {
    const visible = arrows.filter((arrow) => arrow.count >= thresholds[i]).length;
    if (visible <= mapData.default_visible_edges) return i;
  }
  return Math.max(thresholds.length - 1, 0);
}

async function start() {
  els.status.textContent = text.map_loading;
  if (thresholds.length > 0 && thresholds[0] > Math.min(...arrows.map((arrow) => arrow.count))) {
    els.floor.textContent = fill(text.map_floor, {
      count: formatCount(thresholds[0]),
      max: formatCount(mapData.max_drawn_arrows),
    });
    els.floor.hidden = false;
  }
  els.slider.max = String(Math.max(thresholds.length - 1, 0));
  els.slider.value = String(initialSliderPosition());
  try {
    if (!globalThis.supportflowGraphviz) throw new Error("the Graphviz script did not load");
    graphviz = await globalThis.supportflowGraphviz.Graphviz.load();
  } catch (error) {
    showError(error);
    return;
  }
  els.slider.addEventListener("input", render);
  els.views.forEach((input) => input.addEventListener("change", render));
  render();
}

start();
