// The drawing page: what is drawn on #pad goes to POST /predict as a PNG while it is
// drawn; the answer fills in the digit, the ten probabilities, why (what each pixel adds
// to the answer's logit, against a rival digit, and the answer's template), the 28x28
// input and the hidden layer. The network's arithmetic happens on the server, in
// predict_image.py; the page only subtracts two of its maps to compare two digits.
"use strict";

const PEN_WIDTH = 14; // px on the 280x280 pad: fine enough to keep the loops of three digits drawn side by side open
const HIDDEN_COLUMNS = 16; // squares per row in the picture of the hidden layer
const CELL = 16; // px per square

const pad = document.getElementById("pad");
const pen = pad.getContext("2d");
const answerBox = document.getElementById("answer");
const digitText = document.getElementById("digit");
const confidenceText = document.getElementById("confidence");
const statusText = document.getElementById("status");
const inputCanvas = document.getElementById("input");
const hiddenCanvas = document.getElementById("hidden");
const hiddenCaption = document.getElementById("hidden-caption");
const digitsStrip = document.getElementById("digits");
const whyBox = document.getElementById("why");
const rivalButtons = document.getElementById("rivals");

const strokes = new Map(); // pointerId -> last point of each stroke being drawn
let drawn = false; // is anything on the pad?
let waiting = false; // is a request on its way?
let changedMeanwhile = false; // was the pad drawn on while it was?
let generation = 0; // counts Clears: an answer about an older picture is dropped
let lastAnswer = null; // the answer shown
let explained = 0; // which digit of a number "Why" is about
let chosenRival = null; // the digit clicked to compare with; null: the second most probable

const bars = Array.from({ length: 10 }, (_, digit) => {
  const row = document.createElement("li");
  row.innerHTML = `<span>${digit}</span><span class="track"><span class="fill"></span></span>` +
    '<span class="value"></span>';
  document.getElementById("bars").append(row);
  return { row, fill: row.querySelector(".fill"), value: row.querySelector(".value") };
});

const rivals = Array.from({ length: 10 }, (_, digit) => {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = digit;
  button.addEventListener("click", () => {
    chosenRival = digit;
    if (lastAnswer) showWhy(lastAnswer);
  });
  rivalButtons.append(button);
  return button;
});

function showModel(info) {
  const accuracy = info.test_accuracy == null ? "" :
    `, ${(100 * info.test_accuracy).toFixed(2)}% right on MNIST's 10,000 test digits`;
  const raw = info.raw ? ". Preprocessing is off (--raw): the drawing is only shrunk to 28x28" : "";
  document.getElementById("model").textContent =
    `Model ${info.model}: 784-${info.hidden}-10${accuracy}${raw}.`;
  hiddenCanvas.width = HIDDEN_COLUMNS * CELL;
  hiddenCanvas.height = Math.ceil(info.hidden / HIDDEN_COLUMNS) * CELL;
  hiddenCaption.dataset.units = info.hidden;
}

function clearPad() {
  pen.fillStyle = "white";
  pen.fillRect(0, 0, pad.width, pad.height);
  drawn = false;
  changedMeanwhile = false;
  generation += 1;
  lastAnswer = null;
  explained = 0;
  chosenRival = null;
  showNothing();
}

function showNothing() {
  answerBox.dataset.state = "empty";
  digitText.textContent = "\u2013";
  confidenceText.textContent = "";
  for (const bar of bars) {
    bar.fill.style.width = "0";
    bar.value.textContent = "";
    bar.row.classList.remove("best");
    delete bar.row.dataset.probability;
  }
  paintInput(new Array(784).fill(0));
  paintHidden([]);
  showDigits([]);
  showWhy(null);
  setStatus("Draw a digit, 0 to 9, as large as the square allows, or a number of a few digits.");
}

// A number: each digit's 28x28 input, with what the network read there.
function showDigits(digits) {
  digitsStrip.replaceChildren();
  digitsStrip.hidden = digits.length < 2;
  if (digits.length < 2) return;
  digits.forEach((d, k) => {
    const figure = document.createElement("figure");
    figure.classList.toggle("explained", k === explained);
    figure.title = "Click: why this digit";
    figure.addEventListener("click", () => {
      explained = k;
      chosenRival = null;
      showDigits(lastAnswer.digits);
      showWhy(lastAnswer);
    });
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 28;
    paintInput(d.input, canvas);
    const caption = document.createElement("figcaption");
    caption.textContent = `${d.digit} (${d.confidence.toFixed(2)})`;
    figure.append(canvas, caption);
    digitsStrip.append(figure);
  });
}

function showAnswer(answer) {
  answerBox.dataset.state = "answered";
  lastAnswer = answer;
  if (explained >= answer.digits.length) explained = 0;
  const several = answer.digits.length > 1;
  digitText.textContent = several ? answer.number : answer.digit;
  confidenceText.textContent = several ?
    `${answer.digits.length} digits; below: the first one's probabilities and layers` :
    `confidence ${answer.confidence.toFixed(4)}`;
  showDigits(answer.digits);
  answer.probabilities.forEach((p, digit) => {
    const bar = bars[digit];
    bar.fill.style.width = `${100 * p}%`;
    bar.value.textContent = `${(100 * p).toFixed(1)}%`;
    bar.row.classList.toggle("best", digit === answer.digit);
    bar.row.dataset.probability = p;
  });
  paintInput(answer.input);
  paintHidden(answer.hidden);
  showWhy(answer);
  setStatus("Add strokes and the answer follows them; Clear starts a new digit.");
}

// Why the network read digit d (of a number: the digit clicked in the strip) rather than a
// rival r: the contributions x_i T[d, i] of the 784 pixels to d's logit, the same for d
// against r, and the template T[d]; all from the server's answer ("why").
function showWhy(answer) {
  const canvases = ["why-map", "why-against", "why-template"].map((id) => document.getElementById(id));
  if (answer === null) {
    whyBox.dataset.state = "empty";
    canvases.forEach((canvas) => paintSigned(new Array(784).fill(0), canvas));
    rivals.forEach((button) => { button.disabled = true; button.setAttribute("aria-pressed", "false"); });
    document.getElementById("why-digit").textContent = "this answer";
    return;
  }
  const shown = answer.digits[explained];
  const { contributions, templates, from_pixels: pixels, constants } = shown.why;
  const d = shown.digit;
  const byProbability = shown.probabilities.map((p, digit) => [p, digit]).sort((a, b) => b[0] - a[0]);
  const r = chosenRival !== null && chosenRival !== d ? chosenRival : byProbability[1][1];
  whyBox.dataset.state = "answered";
  whyBox.dataset.digit = d;
  whyBox.dataset.rival = r;
  rivals.forEach((button, digit) => {
    button.disabled = digit === d;
    button.setAttribute("aria-pressed", String(digit === r));
  });
  const several = answer.digits.length > 1 ? ` (digit ${explained + 1} of the number)` : "";
  document.getElementById("why-digit").textContent = `${d}${several}`;
  paintSigned(contributions[d], canvases[0]);
  paintSigned(contributions[d].map((v, i) => v - contributions[r][i]), canvases[1]);
  paintSigned(templates[d], canvases[2]);
  document.getElementById("why-map-caption").textContent =
    `x\u1D62 T[${d}, i]: what each pixel adds to the logit of ${d}`;
  document.getElementById("why-against-caption").textContent =
    `x\u1D62 (T[${d}, i] \u2212 T[${r}, i]): why ${d} rather than ${r}`;
  document.getElementById("why-template-caption").textContent =
    `T[${d}]: the picture of a ${d} the network uses for this drawing`;
  const logit = (k) => pixels[k] + constants[k];
  const signed = (v) => `${v < 0 ? "\u2212" : "+"} ${Math.abs(v).toFixed(2)}`;
  const sum = (k) => `Z2[${k}] = ${pixels[k].toFixed(2)} ${signed(constants[k])} = ${logit(k).toFixed(2)}`;
  document.getElementById("why-sums").textContent =
    `${sum(d)} and ${sum(r)} (pixels + constant): ${d} wins by ${(logit(d) - logit(r)).toFixed(2)}, ` +
    `${(pixels[d] - pixels[r]).toFixed(2)} of it from the pixels (the middle map adds up to that).`;
}

// Values around 0 as colours: red for positive, blue for negative, white for 0, each map
// scaled to its own largest |value|.
function paintSigned(values, canvas) {
  const paint = canvas.getContext("2d");
  const image = paint.createImageData(28, 28);
  const largest = Math.max(1e-9, ...values.map(Math.abs));
  values.forEach((v, i) => {
    const t = v / largest;
    const other = Math.round(255 * (1 - Math.abs(t)));
    image.data.set(t >= 0 ? [255, other, other, 255] : [other, other, 255, 255], 4 * i);
  });
  paint.putImageData(image, 0, 0);
}

function showError(message) {
  answerBox.dataset.state = "error";
  setStatus(message, true);
}

function setStatus(message, isError = false) {
  statusText.textContent = message;
  statusText.classList.toggle("error", isError);
}

// The 28x28 input as the network gets it: 0 (black) to 1 (white), row by row.
function paintInput(values, canvas = inputCanvas) {
  const paint = canvas.getContext("2d");
  const image = paint.createImageData(28, 28);
  values.forEach((v, i) => {
    image.data.fill(Math.round(255 * v), 4 * i, 4 * i + 3);
    image.data[4 * i + 3] = 255;
  });
  paint.putImageData(image, 0, 0);
}

// One square per hidden unit, its brightness the unit's activation over the largest one;
// a faint blue marks the active units too weak to show as grey.
function paintHidden(A1) {
  const paint = hiddenCanvas.getContext("2d");
  paint.fillStyle = "black";
  paint.fillRect(0, 0, hiddenCanvas.width, hiddenCanvas.height);
  const largest = Math.max(0, ...A1);
  A1.forEach((a, unit) => {
    const level = largest > 0 ? Math.round(255 * a / largest) : 0;
    paint.fillStyle = `rgb(${level}, ${level}, ${Math.min(255, level + 40 * (a > 0))})`;
    paint.fillRect((unit % HIDDEN_COLUMNS) * CELL + 1, Math.floor(unit / HIDDEN_COLUMNS) * CELL + 1,
      CELL - 2, CELL - 2);
  });
  const units = hiddenCaption.dataset.units || A1.length;
  const active = A1.filter((a) => a > 0).length;
  hiddenCaption.textContent = A1.length === 0 ?
    `A1 = ReLU(W1 X + b1): one square per hidden unit (${units}), brighter for a larger activation.` :
    `A1 = ReLU(W1 X + b1): ${active} of ${A1.length} hidden units are active (A1 > 0); ` +
    `the brightest square is ${largest.toFixed(2)}, black is 0.`;
}

// Ask the server about the pad as it is now. While a request is on its way, only
// note that the pad changed and ask again when the answer arrives: at most one
// request at a time, and the last picture is always the one answered last.
function askServer() {
  if (waiting) {
    changedMeanwhile = true;
    return;
  }
  waiting = true;
  changedMeanwhile = false;
  answerBox.dataset.state = "waiting";
  const asked = generation;
  pad.toBlob(async (png) => {
    try {
      const response = await fetch("/predict", {
        method: "POST", headers: { "Content-Type": "image/png" }, body: png,
      });
      const answer = await response.json().catch(() => ({ error: response.statusText }));
      if (asked === generation) {
        if (response.ok) showAnswer(answer); else showError(answer.error);
      }
    } catch (error) {
      if (asked === generation) {
        showError(`No answer from the server (${error.message}): is predict_image.py --serve still running?`);
      }
    }
    waiting = false;
    if (changedMeanwhile && drawn) askServer();
  }, "image/png");
}

function padPoint(event) {
  const box = pad.getBoundingClientRect();
  return {
    x: (event.clientX - box.left) * pad.width / box.width,
    y: (event.clientY - box.top) * pad.height / box.height,
  };
}

function drawLine(from, to) {
  pen.strokeStyle = "black";
  pen.lineWidth = PEN_WIDTH;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.beginPath();
  if (from.x === to.x && from.y === to.y) { // a dot: a line of length 0 would draw nothing
    pen.fillStyle = "black";
    pen.arc(from.x, from.y, PEN_WIDTH / 2, 0, 2 * Math.PI);
    pen.fill();
  } else {
    pen.moveTo(from.x, from.y);
    pen.lineTo(to.x, to.y);
    pen.stroke();
  }
  drawn = true;
  askServer();
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  const point = padPoint(event);
  strokes.set(event.pointerId, point);
  drawLine(point, point);
});

pad.addEventListener("pointermove", (event) => {
  const last = strokes.get(event.pointerId);
  if (last === undefined) return;
  const point = padPoint(event);
  strokes.set(event.pointerId, point);
  drawLine(last, point);
});

for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, (event) => strokes.delete(event.pointerId));
}

document.getElementById("clear").addEventListener("click", clearPad);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") clearPad();
});

fetch("/model")
  .then((response) => response.json())
  .then(showModel)
  .catch((error) => showError(`No answer from the server (${error.message}).`));
clearPad();
