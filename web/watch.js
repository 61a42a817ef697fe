// The training page: asks train.py for what changed (GET /state, which waits until something
// has) at most four times a second, and draws the run: curves, W1, confusion matrix, test digits.
"use strict";

const MIN_INTERVAL = 250; // ms between two requests
const page = Math.random().toString(36).slice(2, 12); // lets the server tell open pages apart
const run = { id: null, version: 0, points: [], snapshots: [], latest: null, strip: [], settingsShown: false };

const statusLine = document.getElementById("status");
const stopButton = document.getElementById("stop");

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function follow() {
  let failures = 0;
  for (;;) {
    const asked = performance.now();
    try {
      const query = `version=${run.version}&points=${run.points.length}` +
                    `&snapshots=${run.snapshots.length}&page=${page}`;
      const response = await fetch(`/state?${query}`, { cache: "no-store" });
      if (!response.ok) throw new Error(response.statusText);
      update(await response.json());
      failures = 0;
      if (run.status.state === "over") return; // the final state stays on screen
    } catch (error) {
      failures += 1;
      if (failures >= 3) {
        showStatus("gone", "train.py is not answering: the run has ended or was stopped " +
                           "before this page could hear of it.");
        stopButton.disabled = true;
      }
    }
    await sleep(Math.max(0, MIN_INTERVAL * (failures ? 4 : 1) - (performance.now() - asked)));
  }
}

function update(state) {
  if (run.id !== null && state.run !== run.id) { // train.py was started again on this port
    location.reload();
    return;
  }
  run.id = state.run;
  run.version = state.version;
  run.points.length = state.from_point;
  run.points.push(...state.points);
  run.snapshots.length = state.from_snapshot;
  run.snapshots.push(...state.snapshots);
  run.status = state.status;
  if (!run.settingsShown && state.settings.length) {
    showSettings(state.settings);
    run.settingsShown = true;
  }
  if (state.strip) run.strip = state.strip;
  if (state.latest) {
    run.latest = state.latest;
    showSnapshot(state.latest, run.strip);
  }
  showProgress(state);
  drawCurves();
}

function showStatus(kind, text) {
  statusLine.dataset.state = kind;
  statusLine.textContent = text;
}

function showProgress(state) {
  const s = state.status;
  const done = run.points.length ? run.points[run.points.length - 1][0] : 0;
  if (s.state === "over") {
    showStatus(s.outcome === "failed" ? "failed" : "over", `The run is over. ${s.message}`);
    if (s.model) {
      document.getElementById("model-path").textContent = s.model;
      document.getElementById("command").textContent = s.command;
      document.getElementById("over").hidden = false;
    }
  } else if (s.state === "training") {
    showStatus("training", `Training: epoch ${Math.min(Math.floor(done) + 1, state.epochs)} of ${state.epochs}`);
  } else {
    showStatus(s.state, `${s.message}\u2026`);
  }
  stopButton.disabled = s.state !== "training" && s.state !== "loading";
  const parts = [`${done.toFixed(2)} of ${state.epochs} epoch${state.epochs === 1 ? "" : "s"} done`, `${state.elapsed.toFixed(1)} s`];
  if (state.seconds_per_epoch !== null) parts.push(`${state.seconds_per_epoch.toFixed(3)} s for the last epoch`);
  if (run.latest) {
    parts.push(`test accuracy ${(100 * run.latest.test_accuracy).toFixed(2)}% at epoch ${run.latest.epochs_done.toFixed(2)}`);
  }
  document.getElementById("progress").textContent = parts.join(" \u00b7 ");
}

function showSettings(settings) {
  const list = document.getElementById("settings");
  for (const [label, value] of settings) {
    const term = document.createElement("dt");
    term.textContent = label;
    const description = document.createElement("dd");
    description.textContent = value;
    list.append(term, description);
  }
}

function showSnapshot(snapshot, strip) {
  const weights = document.getElementById("weights");
  weights.src = snapshot.weights;
  weights.dataset.epochs = snapshot.epochs_done;
  const dead = snapshot.dead_units;
  const shown = Math.min(snapshot.hidden, 256);
  document.getElementById("weights-caption").textContent =
    `The rows of W1 at epoch ${snapshot.epochs_done.toFixed(2)}` +
    (shown < snapshot.hidden ? ` (the first ${shown} of ${snapshot.hidden})` : ` (all ${shown})`) +
    ": the 784 weights of each hidden unit as a 28\u00d728 image, red positive, blue negative, " +
    "each scaled to its largest |w|. Dead units (Z1 \u2264 0 for every test digit, so ReLU' = 0 and " +
    `they learn nothing more): ${dead.length ? dead.join(", ") : "none"}.`;
  showConfusion(snapshot.confusion);
  showStrip(snapshot.strip, strip);
}

function showConfusion(C) {
  const table = document.getElementById("confusion");
  const largest = Math.max(...C.flat());
  const rows = [`<tr><th></th>${C.map((_, j) => `<th>${j}</th>`).join("")}</tr>`];
  C.forEach((row, i) => {
    const cells = row.map((count, j) => {
      const shade = count ? Math.log1p(count) / Math.log1p(largest) : 0;
      const light = Math.round(255 - 200 * shade);
      const text = shade > 0.6 ? "white" : "black";
      const title = `true ${i}, said ${j}: ${count}`;
      return `<td style="background: rgb(${light}, ${Math.round(light * 0.4 + 150)}, 255); color: ${text}"` +
             ` title="${title}">${count || ""}</td>`;
    });
    rows.push(`<tr><th>${i}</th>${cells.join("")}</tr>`);
  });
  table.innerHTML = rows.join("");
}

function showStrip(answers, digits) {
  const strip = document.getElementById("strip");
  if (strip.children.length !== digits.length) {
    strip.replaceChildren(...digits.map(([src, label]) => {
      const figure = document.createElement("figure");
      const image = document.createElement("img");
      image.src = src;
      image.alt = `a test digit ${label}`;
      figure.append(image, document.createElement("figcaption"));
      return figure;
    }));
  }
  answers.forEach(([digit, probability], k) => {
    const caption = strip.children[k].querySelector("figcaption");
    caption.textContent = `${digit} (${probability === null ? "?" : probability.toFixed(2)})`;
    caption.dataset.digit = digit;
    caption.classList.toggle("wrong", digit !== digits[k][1]);
  });
}

function drawCurves() {
  const loss = run.points.filter((p) => p[1] !== null && p[1] > 0).map((p) => [p[0], p[1]]);
  const lossCanvas = document.getElementById("loss");
  lossCanvas.dataset.points = run.points.length;
  drawChart(lossCanvas, [{ points: loss, colour: "#d62728" }], { log: true, label: "loss" });

  const accuracyCanvas = document.getElementById("accuracy");
  accuracyCanvas.dataset.points = run.points.length;
  accuracyCanvas.dataset.snapshots = run.snapshots.length;
  const train = run.points.map((p) => [p[0], p[2]]);
  const test = run.snapshots.map((s) => [s[0], s[1]]);
  const later = [...train, ...test].filter((p) => p[0] >= 0.2 * lastEpoch()).map((p) => p[1]);
  const low = later.length ? Math.max(0, Math.min(...later) - 0.05) : 0;
  drawChart(accuracyCanvas, [{ points: train, colour: "#1f77b4" }, { points: test, colour: "#2ca02c", dots: true }],
            { yMin: low, yMax: 1, label: "fraction correct" });
}

function lastEpoch() {
  const ends = [run.points.at(-1), run.snapshots.at(-1)].filter(Boolean).map((p) => p[0]);
  return Math.max(0, ...ends);
}

// A line chart of `series` against epochs, with axes; y on a log scale if options.log.
function drawChart(canvas, series, options) {
  const g = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  const left = 56, right = 12, top = 10, bottom = 34;
  g.clearRect(0, 0, W, H);
  g.font = "11px system-ui, sans-serif";
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(lastEpoch(), 1e-3);
  const f = options.log ? Math.log10 : (v) => v;
  let yMin = options.yMin ?? Math.min(...all.map((p) => p[1]));
  let yMax = options.yMax ?? Math.max(...all.map((p) => p[1]));
  if (!all.length) { yMin = options.log ? 0.1 : 0; yMax = 1; }
  if (f(yMax) - f(yMin) < 1e-6) { yMin /= options.log ? 2 : 1; yMax = options.log ? yMax * 2 : yMax + 1e-3; }
  const x = (v) => left + (W - left - right) * v / xMax;
  const y = (v) => top + (H - top - bottom) * (1 - (f(Math.min(Math.max(v, yMin), yMax)) - f(yMin)) / (f(yMax) - f(yMin)));

  g.strokeStyle = "#ddd";
  g.fillStyle = "#555";
  g.textAlign = "right";
  g.textBaseline = "middle";
  for (const v of ticks(yMin, yMax, options.log)) {
    g.beginPath(); g.moveTo(left, y(v)); g.lineTo(W - right, y(v)); g.stroke();
    g.fillText(options.log ? String(Number(v.toPrecision(2))) : v.toFixed(2), left - 6, y(v));
  }
  g.textAlign = "center";
  g.textBaseline = "top";
  for (const v of ticks(0, xMax, false)) {
    g.beginPath(); g.moveTo(x(v), top); g.lineTo(x(v), H - bottom); g.stroke();
    g.fillText(String(Number(v.toPrecision(3))), x(v), H - bottom + 5);
  }
  g.fillText("epoch", left + (W - left - right) / 2, H - 14);
  g.strokeStyle = "#888";
  g.strokeRect(left, top, W - left - right, H - top - bottom);

  for (const s of series) {
    g.strokeStyle = g.fillStyle = s.colour;
    g.lineWidth = 1.5;
    g.beginPath();
    s.points.forEach(([px, py], k) => (k ? g.lineTo(x(px), y(py)) : g.moveTo(x(px), y(py))));
    g.stroke();
    if (s.dots) for (const [px, py] of s.points) { g.beginPath(); g.arc(x(px), y(py), 2.5, 0, 2 * Math.PI); g.fill(); }
  }
  g.lineWidth = 1;
}

// Values for grid lines between low and high: 1-2-5 steps, or powers of ten and their 2s and 5s on a log scale.
function ticks(low, high, log) {
  if (log) {
    const values = [];
    for (let e = Math.floor(Math.log10(low)); e <= Math.ceil(Math.log10(high)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= low && v <= high) values.push(v);
      }
    }
    return values.length > 6 ? values.filter((v) => Number(v.toPrecision(1)) === 10 ** Math.round(Math.log10(v))) : values;
  }
  const raw = (high - low) / 5;
  const step = [1, 2, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw))).find((s) => s >= raw);
  const values = [];
  for (let v = Math.ceil(low / step) * step; v <= high + 1e-9; v += step) values.push(v);
  return values;
}

stopButton.addEventListener("click", async () => {
  stopButton.disabled = true;
  try {
    const response = await fetch("/stop", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
    });
    if (!response.ok) throw new Error((await response.json()).error);
    showStatus("stopping", "Stopping after the current step, as Ctrl-C does\u2026");
  } catch (error) {
    showStatus("failed", `Could not stop the run: ${error.message}`);
  }
});

follow();
