// The quick-look viewer ("WebQL"): an archive image on its real pixels, in a canvas. The first
// picture is the whole image block-averaged to at most 1024 pixels a side (/quicklook/pixels,
// FITS), drawn as soon as it arrives; zooming in fetches the part in view at a finer binning,
// down to the original pixels. Stretch (linear, sqrt, log, asinh) and cuts (min/max,
// percentiles, typed values) are applied here, on the floats; the cursor shows the pixel, its
// value and its RA/Dec through the image's WCS; sources of a catalogue are overlaid.
import { request, serviceUrl } from "./api.js";
import { readImage } from "./fits.js";
import { runSync } from "./tap.js";
import { TanWcs, sexagesimal } from "./wcs.js";

const LUT_SIZE = 4096;
const STRETCHES = {
  linear: (t) => t,
  sqrt: (t) => Math.sqrt(t),
  log: (t) => Math.log10(1 + 1000 * t) / Math.log10(1001),
  asinh: (t) => Math.asinh(10 * t) / Math.asinh(10),
};
const MAX_SOURCES = 5000;
const REFINE_PIXELS = 2048 * 2048; // what /quicklook/pixels gives at most

/** One FITS answer of /quicklook/pixels: a box of the original at ``bin`` x ``bin``. */
class Layer {
  constructor(image) {
    const h = image.header;
    Object.assign(this, { width: image.width, height: image.height, data: image.data, header: h });
    this.bin = h.get("QLBIN") ?? 1;
    this.x0 = h.get("QLX0") ?? 0;
    this.y0 = h.get("QLY0") ?? 0;
    this.nx = h.get("QLNX") ?? image.width;
    this.ny = h.get("QLNY") ?? image.height;
    this.canvas = document.createElement("canvas");
    this.canvas.width = this.width;
    this.canvas.height = this.height;
  }

  /** Whether the original pixel box [x0, x1] x [y0, y1] is inside this layer. */
  covers(x0, x1, y0, y1) {
    return x0 >= this.x0 && y0 >= this.y0 && x1 < this.x0 + this.width * this.bin && y1 < this.y0 + this.height * this.bin;
  }

  /** The value of original pixel (x, y): the mean of its block here, or undefined outside. */
  value(x, y) {
    const i = Math.floor((x - this.x0) / this.bin);
    const j = Math.floor((y - this.y0) / this.bin);
    if (i < 0 || j < 0 || i >= this.width || j >= this.height) return undefined;
    return this.data[j * this.width + i];
  }

  paint(lut, low, high) {
    const context = this.canvas.getContext("2d");
    const picture = context.createImageData(this.width, this.height);
    const pixels = new Uint32Array(picture.data.buffer);
    const scale = high > low ? (LUT_SIZE - 1) / (high - low) : 0;
    const { width, height, data } = this;
    for (let row = 0; row < height; row += 1) {
      const from = row * width;
      const to = (height - 1 - row) * width; // FITS row 0 is at the bottom
      for (let i = 0; i < width; i += 1) {
        const v = data[from + i];
        if (v !== v) {
          pixels[to + i] = 0; // NaN: transparent
          continue;
        }
        let k = (v - low) * scale;
        k = k < 0 ? 0 : k > LUT_SIZE - 1 ? LUT_SIZE - 1 : k | 0;
        pixels[to + i] = lut[k];
      }
    }
    context.putImageData(picture, 0, 0);
  }
}

function lookupTable(stretch) {
  const f = STRETCHES[stretch] || STRETCHES.linear;
  const lut = new Uint32Array(LUT_SIZE);
  const little = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  for (let k = 0; k < LUT_SIZE; k += 1) {
    const g = Math.round(255 * Math.min(1, Math.max(0, f(k / (LUT_SIZE - 1)))));
    lut[k] = little ? (0xff << 24) | (g << 16) | (g << 8) | g : (g << 24) | (g << 16) | (g << 8) | 0xff;
  }
  return lut;
}

/** Sorted finite values of ``data`` (at most about 250,000 of them, evenly taken). */
function sample(data) {
  const step = Math.max(1, Math.floor(data.length / 250_000));
  const values = [];
  for (let i = 0; i < data.length; i += step) if (Number.isFinite(data[i])) values.push(data[i]);
  return Float32Array.from(values).sort();
}

const quoted = (name) => (/^[A-Za-z][A-Za-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`);

export class QuickLook {
  constructor(parts) {
    Object.assign(this, parts); // dialog, title, canvas, overlay, status, coords, stretch, cuts, low, high, zoomIn, zoomOut, fit, catalogue, overlayButton, catalogues()
    this.view = null;
    this.overviewLayer = null;
    this.patch = null;
    this.sources = [];
    this.loading = null;
    this.stretch.addEventListener("change", () => this.repaint());
    this.cuts.addEventListener("change", () => this.chooseCuts());
    for (const input of [this.low, this.high]) input.addEventListener("change", () => ((this.cuts.value = "custom"), this.repaint()));
    this.zoomIn.addEventListener("click", () => this.zoom(2));
    this.zoomOut.addEventListener("click", () => this.zoom(0.5));
    this.fit.addEventListener("click", () => this.fitView());
    this.overlayButton.addEventListener("click", () => this.overlaySources());
    this.dialog.addEventListener("close", () => {
      this.reset();
      this.returnFocus?.focus();
    });
    this.bindPointer();
    new ResizeObserver(() => this.resize()).observe(this.canvas);
  }

  // ------------------------------------------------------------------ opening an image
  async open(id, name, returnFocus) {
    const started = performance.now();
    this.reset();
    this.id = id;
    this.returnFocus = returnFocus;
    this.title.textContent = `Quick look: ${name}`;
    this.status.textContent = "Loading the pixels…";
    delete this.dialog.dataset.firstPaintMs;
    delete this.dialog.dataset.bin;
    this.coords.textContent = "";
    this.dialog.showModal();
    this.canvas.focus();
    this.fillCatalogues();
    const controller = new AbortController();
    this.loading = controller;
    try {
      const response = await request(serviceUrl("quicklook/pixels", { ID: id }), { signal: controller.signal });
      const layer = new Layer(readImage(await response.arrayBuffer()));
      this.overviewLayer = layer;
      this.wcs = TanWcs.from(layer.header);
      this.sorted = sample(layer.data);
      this.resize(false);
      this.fitView(false);
      this.chooseCuts(false);
      this.repaint();
      const ms = performance.now() - started;
      this.dialog.dataset.firstPaintMs = ms.toFixed(0);
      this.status.textContent =
        `${layer.nx} × ${layer.ny} pixels` + (layer.bin > 1 ? `, first shown ${layer.bin} × ${layer.bin} binned` : "") + `; first picture in ${(ms / 1000).toFixed(2)} s`;
      if (!this.wcs) this.status.textContent += "; its WCS is not TAN, so no sky coordinates are shown";
    } catch (error) {
      if (error.name !== "AbortError") this.status.textContent = `The image could not be shown: ${error.message}`;
    } finally {
      if (this.loading === controller) this.loading = null;
    }
  }

  reset() {
    this.loading?.abort();
    this.refining?.abort();
    clearTimeout(this.refineTimer);
    this.overviewLayer = null;
    this.patch = null;
    this.sources = [];
    const context = this.canvas.getContext("2d");
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.overlay.getContext("2d").clearRect(0, 0, this.overlay.width, this.overlay.height);
    delete this.overlay.dataset.sources;
  }

  // ------------------------------------------------------------------ view: centre and scale
  resize(draw = true) {
    const width = Math.max(1, Math.round(this.canvas.clientWidth));
    const height = Math.max(1, Math.round(this.canvas.clientHeight));
    for (const c of [this.canvas, this.overlay]) if (c.width !== width || c.height !== height) (c.width = width), (c.height = height);
    if (draw && this.overviewLayer) this.draw();
  }

  fitView(draw = true) {
    const layer = this.overviewLayer;
    if (!layer) return;
    const scale = Math.min(this.canvas.width / layer.nx, this.canvas.height / layer.ny);
    this.view = { cx: (layer.nx - 1) / 2, cy: (layer.ny - 1) / 2, scale };
    if (draw) this.changed();
  }

  zoom(factor, at = null) {
    if (!this.view) return;
    const v = this.view;
    const scale = Math.min(64, Math.max(this.fitScale() / 4, v.scale * factor));
    if (at) {
      // keep the pixel under the cursor where it is
      const [x, y] = this.toImage(at[0], at[1]);
      v.cx = x - (at[0] - this.canvas.width / 2) / scale;
      v.cy = y + (at[1] - this.canvas.height / 2) / scale;
    }
    v.scale = scale;
    this.changed();
  }

  fitScale() {
    const layer = this.overviewLayer;
    return Math.min(this.canvas.width / layer.nx, this.canvas.height / layer.ny);
  }

  pan(dx, dy) {
    if (!this.view) return;
    this.view.cx -= dx / this.view.scale;
    this.view.cy += dy / this.view.scale;
    this.changed();
  }

  /** Original pixel coordinates (0-based, y up) under canvas point (sx, sy). */
  toImage(sx, sy) {
    const v = this.view;
    return [v.cx + (sx - this.canvas.width / 2) / v.scale, v.cy - (sy - this.canvas.height / 2) / v.scale];
  }

  toScreen(x, y) {
    const v = this.view;
    return [this.canvas.width / 2 + (x - v.cx) * v.scale, this.canvas.height / 2 - (y - v.cy) * v.scale];
  }

  changed() {
    this.draw();
    clearTimeout(this.refineTimer);
    this.refineTimer = setTimeout(() => this.refine(), 150);
  }

  // ------------------------------------------------------------------ drawing
  chooseCuts(draw = true) {
    const values = this.sorted;
    if (!values || !values.length) return;
    const choice = this.cuts.value;
    if (choice !== "custom") {
      const percent = choice === "minmax" ? 100 : Number(choice);
      const at = (q) => values[Math.min(values.length - 1, Math.max(0, Math.round(q * (values.length - 1))))];
      const tail = (100 - percent) / 200;
      this.low.value = String(Number(at(tail).toPrecision(6)));
      this.high.value = String(Number(at(1 - tail).toPrecision(6)));
    }
    if (draw) this.repaint();
  }

  repaint() {
    const low = Number(this.low.value);
    const high = Number(this.high.value);
    if (!Number.isFinite(low) || !Number.isFinite(high)) return;
    const lut = lookupTable(this.stretch.value);
    for (const layer of [this.overviewLayer, this.patch]) layer?.paint(lut, low, high);
    this.dialog.dataset.stretch = `${this.stretch.value} ${low} ${high}`;
    this.draw();
  }

  drawLayer(context, layer) {
    const [left, top] = this.toScreen(layer.x0 - 0.5, layer.y0 + layer.height * layer.bin - 0.5);
    const size = layer.bin * this.view.scale;
    context.drawImage(layer.canvas, left, top, layer.width * size, layer.height * size);
  }

  draw() {
    if (!this.overviewLayer || !this.view) return;
    const context = this.canvas.getContext("2d");
    context.imageSmoothingEnabled = false;
    context.fillStyle = "#20242c";
    context.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.drawLayer(context, this.overviewLayer);
    if (this.patch) this.drawLayer(context, this.patch);
    this.dialog.dataset.bin = String(this.patch && this.patchInView() ? this.patch.bin : this.overviewLayer.bin);
    this.drawSources();
  }

  drawSources() {
    const context = this.overlay.getContext("2d");
    context.clearRect(0, 0, this.overlay.width, this.overlay.height);
    context.strokeStyle = "#33ddff";
    context.lineWidth = 1.5;
    let shown = 0;
    for (const [x, y] of this.sources) {
      const [sx, sy] = this.toScreen(x, y);
      if (sx < -10 || sy < -10 || sx > this.overlay.width + 10 || sy > this.overlay.height + 10) continue;
      context.beginPath();
      context.arc(sx, sy, 7, 0, 2 * Math.PI);
      context.stroke();
      shown += 1;
    }
    this.overlay.dataset.drawn = String(shown);
  }

  // ------------------------------------------------------------------ finer pixels for what is in view
  visibleBox(margin) {
    const layer = this.overviewLayer;
    const [xa, ya] = this.toImage(-margin, this.canvas.height + margin);
    const [xb, yb] = this.toImage(this.canvas.width + margin, -margin);
    const clip = (v, n) => Math.min(n - 1, Math.max(0, v));
    return [clip(Math.floor(xa), layer.nx), clip(Math.ceil(xb), layer.nx), clip(Math.floor(ya), layer.ny), clip(Math.ceil(yb), layer.ny)];
  }

  patchInView() {
    const [x0, x1, y0, y1] = this.visibleBox(0);
    return this.patch.covers(x0, x1, y0, y1);
  }

  async refine() {
    const layer = this.overviewLayer;
    if (!layer) return;
    const wanted = this.view.scale >= 1 ? 1 : 2 ** Math.floor(Math.log2(1 / this.view.scale));
    if (wanted >= layer.bin) {
      this.patch = null; // the overview is as fine as the screen
      return this.draw();
    }
    const [x0, x1, y0, y1] = this.visibleBox(0);
    if (this.patch && this.patch.bin === wanted && this.patch.covers(x0, x1, y0, y1)) return;
    let [bx0, bx1, by0, by1] = this.visibleBox(Math.min(this.canvas.width, this.canvas.height) * 0.15);
    bx0 -= bx0 % wanted;
    by0 -= by0 % wanted;
    if (((bx1 - bx0 + 1) / wanted) * ((by1 - by0 + 1) / wanted) > REFINE_PIXELS) [bx0, bx1, by0, by1] = [x0 - (x0 % wanted), x1, y0 - (y0 % wanted), y1];
    this.refining?.abort();
    const controller = new AbortController();
    this.refining = controller;
    try {
      const url = serviceUrl("quicklook/pixels", { ID: this.id, BIN: wanted, X0: bx0, X1: bx1, Y0: by0, Y1: by1 });
      const patch = new Layer(readImage(await (await request(url, { signal: controller.signal })).arrayBuffer()));
      if (controller.signal.aborted || this.overviewLayer !== layer) return;
      patch.paint(lookupTable(this.stretch.value), Number(this.low.value), Number(this.high.value));
      this.patch = patch;
      this.draw();
    } catch (error) {
      if (error.name !== "AbortError") this.status.textContent = `Finer pixels could not be read: ${error.message}`;
    }
  }

  // ------------------------------------------------------------------ the cursor: pixel, value, sky
  describe(sx, sy) {
    const layer = this.overviewLayer;
    if (!layer || !this.view) return;
    const [x, y] = this.toImage(sx, sy);
    const ix = Math.floor(x + 0.5);
    const iy = Math.floor(y + 0.5);
    if (ix < 0 || iy < 0 || ix >= layer.nx || iy >= layer.ny) {
      this.coords.textContent = "";
      return;
    }
    const fine = this.patch?.value(ix, iy);
    const from = fine !== undefined ? this.patch : layer;
    const value = fine !== undefined ? fine : layer.value(ix, iy);
    const what = from.bin > 1 ? ` (mean of ${from.bin} × ${from.bin})` : "";
    let text = `x ${ix + 1}, y ${iy + 1}: ${Number.isNaN(value) ? "blank" : Number(value.toPrecision(7))}${what}`;
    if (this.wcs) {
      const b = layer.bin;
      const [ra, dec] = this.wcs.pixelToSky((ix - layer.x0 - (b - 1) / 2) / b, (iy - layer.y0 - (b - 1) / 2) / b);
      text += ` · RA, Dec ${ra.toFixed(6)} ${dec.toFixed(6)} (${sexagesimal(ra, dec)})`;
    }
    this.coords.textContent = text;
  }

  bindPointer() {
    let drag = null;
    this.canvas.addEventListener("pointerdown", (event) => {
      drag = [event.offsetX, event.offsetY];
      this.canvas.setPointerCapture(event.pointerId);
    });
    this.canvas.addEventListener("pointermove", (event) => {
      if (drag) {
        this.pan(event.offsetX - drag[0], event.offsetY - drag[1]);
        drag = [event.offsetX, event.offsetY];
      }
      this.describe(event.offsetX, event.offsetY);
    });
    this.canvas.addEventListener("pointerup", () => (drag = null));
    this.canvas.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        this.zoom(event.deltaY < 0 ? 1.25 : 0.8, [event.offsetX, event.offsetY]);
      },
      { passive: false },
    );
    this.canvas.addEventListener("keydown", (event) => {
      const step = 0.1 * Math.min(this.canvas.width, this.canvas.height);
      const moves = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
      if (event.key in moves) this.pan(...moves[event.key]);
      else if (event.key === "+" || event.key === "=") this.zoom(2);
      else if (event.key === "-") this.zoom(0.5);
      else if (event.key === "0") this.fitView();
      else return;
      event.preventDefault();
      this.describe(this.canvas.width / 2, this.canvas.height / 2);
    });
  }

  // ------------------------------------------------------------------ catalogue sources
  fillCatalogues() {
    const tables = this.catalogues();
    const chosen = this.catalogue.value;
    this.catalogue.replaceChildren(...tables.map((t) => new Option(t.name, t.name)));
    if (tables.some((t) => t.name === chosen)) this.catalogue.value = chosen;
    this.catalogue.disabled = this.overlayButton.disabled = !tables.length;
    if (!tables.length) this.catalogue.append(new Option("no catalogue with positions", ""));
  }

  async overlaySources() {
    const table = this.catalogues().find((t) => t.name === this.catalogue.value);
    const layer = this.overviewLayer;
    if (!table || !layer || !this.wcs) return;
    const b = layer.bin;
    const toBinned = (x, y) => [(x - layer.x0 - (b - 1) / 2) / b, (y - layer.y0 - (b - 1) / 2) / b];
    const [ra0, dec0] = this.wcs.pixelToSky(...toBinned((layer.nx - 1) / 2, (layer.ny - 1) / 2));
    const r = Math.PI / 180;
    const radius = Math.max(
      ...[[0, 0], [layer.nx - 1, 0], [0, layer.ny - 1], [layer.nx - 1, layer.ny - 1]].map(([x, y]) => {
        const [ra, dec] = this.wcs.pixelToSky(...toBinned(x, y));
        const cos = Math.sin(dec * r) * Math.sin(dec0 * r) + Math.cos(dec * r) * Math.cos(dec0 * r) * Math.cos((ra - ra0) * r);
        return Math.acos(Math.min(1, cos)) / r;
      }),
    );
    const [ra, dec] = [quoted(table.ra), quoted(table.dec)];
    const query =
      `SELECT TOP ${MAX_SOURCES} ${ra}, ${dec} FROM ${table.name} ` +
      `WHERE 1 = CONTAINS(POINT('ICRS', ${ra}, ${dec}), CIRCLE('ICRS', ${ra0.toFixed(7)}, ${dec0.toFixed(7)}, ${radius.toFixed(7)}))`;
    this.status.textContent = `Reading the sources of ${table.name}…`;
    try {
      const answer = await runSync(query, MAX_SOURCES);
      this.sources = [];
      for (const [sra, sdec] of answer.rows) {
        const at = this.wcs.skyToPixel(Number(sra), Number(sdec));
        if (!at) continue;
        const [x, y] = [layer.x0 + at[0] * b + (b - 1) / 2, layer.y0 + at[1] * b + (b - 1) / 2];
        if (x >= -0.5 && y >= -0.5 && x < layer.nx - 0.5 && y < layer.ny - 0.5) this.sources.push([x, y]);
      }
      this.overlay.dataset.sources = String(this.sources.length);
      this.status.textContent = `${this.sources.length} sources of ${table.name} on the image${answer.overflow ? ` (the first ${MAX_SOURCES})` : ""}.`;
      this.drawSources();
    } catch (error) {
      this.status.textContent = `The sources could not be read: ${error.message}`;
    }
  }
}
