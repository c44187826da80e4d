// The drawing pad (pointer events: mouse, touch, pen) and painting 28×28 images on canvases.
// The pad records strokes ({side, strokes: [{size, points}]}, the format of drawings/) and paints
// them; turning the painted pad into the network's 28×28 input is the engine's (Lab.drawingInput),
// the same conversion the CLI and the tests run (they paint the strokes in Rust).

export const SIDE = 28;

/** Paints 784 grey values (bytes 0..255, or floats 0..1 with `unit`) on a 28×28 canvas. */
export function paintImage(canvas, values, { offset = 0, unit = false } = {}) {
  canvas.width = SIDE;
  canvas.height = SIDE;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = unit ? Math.round(values[offset + i] * 255) : values[offset + i];
    img.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}

/** A canvas showing one 28×28 image, scaled up by CSS (class "px"). */
export function imageCanvas(values, offset = 0, label = '') {
  const c = document.createElement('canvas');
  c.className = 'px';
  paintImage(c, values, { offset });
  c.setAttribute('role', 'img');
  if (label) c.setAttribute('aria-label', label);
  return c;
}

/**
 * A square drawing pad: white strokes on black. onChange(kind) runs on every change
 * ('stroke' while drawing, 'end' when a stroke ends, 'clear', 'undo', 'image').
 */
export class DrawPad {
  constructor(canvas, { size = 280, brush = 18, onChange = () => {} } = {}) {
    this.canvas = canvas;
    canvas.width = size;
    canvas.height = size;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true });
    this.brush = brush;
    this.onChange = onChange;
    this.strokes = []; // [{size, points: [[x, y], …]}]
    this.image = null; // a 28×28 test image shown instead of strokes, or null
    this.active = null;
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const t of ['pointerup', 'pointercancel', 'lostpointercapture']) canvas.addEventListener(t, (e) => this.up(e));
    this.render();
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * this.canvas.width, ((e.clientY - r.top) / r.height) * this.canvas.height];
  }

  down(e) {
    if (e.button > 0) return;
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    if (this.image) {
      this.image = null;
      this.strokes = [];
    }
    this.active = { id: e.pointerId, stroke: { size: this.brush, points: [this.point(e)] } };
    this.strokes.push(this.active.stroke);
    this.render();
    this.onChange('stroke');
  }

  move(e) {
    if (!this.active || e.pointerId !== this.active.id) return;
    const events = e.getCoalescedEvents?.() ?? [];
    for (const ev of events.length ? events : [e]) this.active.stroke.points.push(this.point(ev));
    this.render();
    this.onChange('stroke');
  }

  up(e) {
    if (!this.active || e.pointerId !== this.active.id) return;
    this.active = null;
    this.onChange('end');
  }

  undo() {
    if (this.image) this.image = null;
    else this.strokes.pop();
    this.render();
    this.onChange('undo');
  }

  clear() {
    this.strokes = [];
    this.image = null;
    this.render();
    this.onChange('clear');
  }

  /** Shows a 28×28 byte image (a test image); the network then sees exactly these pixels. */
  showImage(pixels) {
    this.image = Uint8Array.from(pixels);
    this.strokes = [];
    this.render();
    this.onChange('image');
  }

  isEmpty() {
    return !this.image && this.strokes.length === 0;
  }

  /** The test image on the pad as Float32Array(784) in [0, 1], or null when it shows strokes. */
  imageInput() {
    return this.image ? Float32Array.from(this.image, (v) => v / 255) : null;
  }

  /**
   * The strokes as a Drawing (the engine's type) with the pad's painted grey levels (`pixels`:
   * the network sees what the visitor sees), or null when the pad shows none.
   */
  drawing() {
    if (this.image || !this.strokes.length) return null;
    const { width: side } = this.canvas;
    const rgba = this.ctx.getImageData(0, 0, side, side).data;
    const pixels = new Uint8Array(side * side);
    for (let i = 0; i < pixels.length; i++) pixels[i] = rgba[4 * i];
    return { side, strokes: this.strokes.map((s) => ({ size: s.size, points: s.points.map(([x, y]) => [x, y]) })), pixels };
  }

  /** Shows a recorded drawing ({side, strokes}), scaled to this pad. */
  showDrawing({ side, strokes }) {
    const k = this.canvas.width / side;
    this.image = null;
    this.strokes = strokes.map((s) => ({ size: s.size * k, points: s.points.map(([x, y]) => [x * k, y * k]) }));
    this.render();
    this.onChange('drawing');
  }

  render() {
    const { ctx, canvas } = this;
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (this.image) {
      const tmp = document.createElement('canvas');
      paintImage(tmp, this.image);
      ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
      return;
    }
    ctx.strokeStyle = ctx.fillStyle = '#fff';
    ctx.lineCap = ctx.lineJoin = 'round';
    for (const s of this.strokes) {
      ctx.lineWidth = s.size;
      const [first, ...rest] = s.points;
      ctx.beginPath();
      if (!rest.length) {
        ctx.arc(first[0], first[1], s.size / 2, 0, Math.PI * 2);
        ctx.fill();
        continue;
      }
      ctx.moveTo(...first);
      for (const p of rest) ctx.lineTo(...p);
      ctx.stroke();
    }
  }
}
