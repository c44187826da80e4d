// The drawing pad (pointer events: mouse, touch, pen) and the image helpers: turning a drawing
// into the 28×28 input the network expects, the way Fashion-MNIST was made (light garment on a
// dark background, cropped to its bounding box, longest side scaled to 28, centred), and
// painting 28×28 byte images on canvases.

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
 * The 28×28 input (Float32Array of 784 values in [0, 1]) for a grey source canvas, or null
 * when it is blank.
 */
export function toInput(source) {
  const { width: w, height: h } = source;
  const px = source.getContext('2d').getImageData(0, 0, w, h).data;
  let [x0, y0, x1, y1] = [w, h, -1, -1];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (px[(y * w + x) * 4] > 24) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = SIDE / Math.max(bw, bh);
  const dw = Math.max(1, bw * scale);
  const dh = Math.max(1, bh * scale);
  // Halve in steps first: one big smoothed downscale skips pixels and thins the strokes.
  let src = source;
  let [sx, sy, sw, sh] = [x0, y0, bw, bh];
  while (sw / 2 >= dw && sh / 2 >= dh) {
    const half = document.createElement('canvas');
    half.width = Math.ceil(sw / 2);
    half.height = Math.ceil(sh / 2);
    const hc = half.getContext('2d');
    hc.imageSmoothingQuality = 'high';
    hc.drawImage(src, sx, sy, sw, sh, 0, 0, half.width, half.height);
    [src, sx, sy, sw, sh] = [half, 0, 0, half.width, half.height];
  }
  const out = document.createElement('canvas');
  out.width = SIDE;
  out.height = SIDE;
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, SIDE, SIDE);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(src, sx, sy, sw, sh, (SIDE - dw) / 2, (SIDE - dh) / 2, dw, dh);
  const small = ctx.getImageData(0, 0, SIDE, SIDE).data;
  const input = new Float32Array(SIDE * SIDE);
  for (let i = 0; i < input.length; i++) input[i] = small[i * 4] / 255;
  return input;
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

  /** What the network sees: Float32Array(784) in [0, 1], or null for an empty pad. */
  input() {
    if (this.image) return Float32Array.from(this.image, (v) => v / 255);
    return this.strokes.length ? toInput(this.canvas) : null;
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
