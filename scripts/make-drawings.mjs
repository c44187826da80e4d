// Writes www/drawings/generated.json: 30 parametric garment drawings per Fashion-MNIST class, in the
// drawing pad's own stroke format (see www/drawings/README.md), made the way people draw on the pad:
// outlines or filled shapes, thin and thick brushes, small and large, off-centre, slightly
// rotated, wobbly, with pointer-event spacing between points. Deterministic: a seeded PRNG per
// drawing, so every run writes the same bytes.
//
//   node scripts/make-drawings.mjs
//   node scripts/make-drawings.mjs --pool /tmp/pool.json   # 600 more, for choosing models
//
// The contact sheet (test-results/drawings-sheet.png) is drawn by
// `node scripts/record-former-input.mjs --sheet`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CANVAS = 280;
export const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const SLUGS = ['t-shirt-top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot'];
/** Classes drawn from the side (or with a handle on one side): they face left or right. */
const FACING = new Set([5, 7, 8, 9]);
/** The thickest brush, as a fraction of the drawing's size: thinner where gaps must stay open. */
const MAX_BRUSH = { 1: 0.09, 5: 0.08 };
const PER_CLASS = 30;
const POOL = 60;

// ---------------------------------------------------------------------------------------------
// Randomness: mulberry32 seeded from an FNV-1a hash of the drawing's id, so one drawing's shape
// does not change when another class's code changes.

export function rng(seedText) {
  let h = 0x811c9dc5;
  for (const ch of seedText) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  let a = h;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.range = (lo, hi) => lo + (hi - lo) * next();
  next.int = (lo, hi) => Math.floor(next.range(lo, hi + 1));
  next.chance = (p) => next() < p;
  // Approximately normal (sum of uniforms): enough for jitter, and no Math.log/sqrt rounding.
  next.gauss = () => next() + next() + next() + next() - 2;
  return next;
}

// ---------------------------------------------------------------------------------------------
// Shapes. Each class function returns parts in unit coordinates (x right, y down, longest side
// about 1; shoes and bags face right). A part is {pts, closed, role}: role 'body' is an outline
// that the filled style hatches, 'line' an open stroke always drawn (straps, handles), 'detail'
// a stroke drawn only on outlines (on a filled shape white on white would not show).
// A point [x, y, 'c'] is the control point of a quadratic curve between its neighbours.

const body = (pts) => ({ pts, closed: true, role: 'body' });
const line = (pts) => ({ pts, closed: false, role: 'line' });
const detail = (pts) => ({ pts, closed: false, role: 'detail' });
const c = (x, y) => [x, y, 'c'];
/** Right (R) and left (L) of a symmetric garment whose centre line is x = 0.5. */
const R = (dx, y) => [0.5 + dx, y];
const L = (dx, y) => [0.5 - dx, y];
const Rc = (dx, y) => c(0.5 + dx, y);
const Lc = (dx, y) => c(0.5 - dx, y);

/** Short sleeves held out at an angle, a round neck, a straight body. */
function tshirt(r) {
  const bw = r.range(0.24, 0.32); // half the body's width
  const h = r.range(0.8, 1.0);
  const nh = r.range(0.08, 0.12);
  const a = r.range(0.35, 0.75); // sleeve angle below horizontal (rad)
  const sl = r.range(0.16, 0.26);
  const sw = r.range(0.12, 0.17);
  const sh = [bw + 0.03, 0.05];
  const cuffOut = [sh[0] + sl * Math.cos(a), sh[1] + sl * Math.sin(a)];
  const cuffIn = [cuffOut[0] - sw * Math.sin(a), cuffOut[1] + sw * Math.cos(a)];
  const arm = [bw, sh[1] + sw / Math.cos(a) * 0.9 + 0.05];
  const parts = [
    body([R(nh, 0), R(...sh), R(...cuffOut), R(...cuffIn), R(...arm), R(bw + r.range(0, 0.03), h),
      L(bw + r.range(0, 0.03), h), L(...arm), L(...cuffIn), L(...cuffOut), L(...sh), L(nh, 0), Lc(0, r.range(0.12, 0.24))]),
  ];
  if (r.chance(0.5)) parts.push(detail([L(nh * 0.8, 0.05), Lc(0, 0.2), R(nh * 0.8, 0.05)])); // neck band
  if (r.chance(0.3)) parts.push(detail([L(...arm), L(sh[0] - 0.02, sh[1] + 0.02)]), detail([R(...arm), R(sh[0] - 0.02, sh[1] + 0.02)]));
  return parts;
}

/** Two legs with a gap between them from the crotch down. */
function trouser(r) {
  const ww = r.range(0.18, 0.24); // half the waist
  const hw = ww + r.range(-0.02, 0.06); // outer hem
  const gap = r.range(0.05, 0.09); // half the gap between the legs at the hem
  const crotch = r.range(0.25, 0.4);
  const parts = [body([R(ww, 0), R(ww + 0.02, 0.35), R(hw, 1), R(gap, 1), R(0, crotch), L(gap, 1), L(hw, 1), L(ww + 0.02, 0.35), L(ww, 0)])];
  if (r.chance(0.6)) parts.push(detail([L(ww, 0.07), R(ww, 0.07)])); // waistband
  if (r.chance(0.4)) parts.push(detail([R(0, 0.07), R(0.01, crotch * 0.7)])); // fly
  return parts;
}

/** Long sleeves hanging down beside the body; optionally ribbed cuffs and hem. */
function longSleeved(r, { h, bw, a, neck }) {
  const sl = r.range(0.7, 0.85) * h;
  const sw = r.range(0.11, 0.15);
  const sh = [bw + 0.02, 0.05];
  const cuffOut = [sh[0] + sl * Math.cos(a), sh[1] + sl * Math.sin(a)];
  const cuffIn = [cuffOut[0] - sw * Math.sin(a), cuffOut[1] + sw * Math.cos(a) * 0.5];
  const arm = [bw, 0.2];
  const outline = [R(neck, 0), R(...sh), R(...cuffOut), R(...cuffIn), R(...arm), R(bw, h), L(bw, h), L(...arm), L(...cuffIn), L(...cuffOut), L(...sh), L(neck, 0)];
  return { outline, cuffOut, cuffIn, sh, arm };
}

function pullover(r) {
  const h = r.range(0.85, 1.0);
  const bw = r.range(0.22, 0.28);
  const neck = r.range(0.08, 0.11);
  const s = longSleeved(r, { h, bw, a: r.range(1.0, 1.3), neck });
  const parts = [body([...s.outline, Lc(0, r.range(0.1, 0.18))])];
  if (r.chance(0.5)) parts.push(detail([L(bw, h - 0.08), R(bw, h - 0.08)])); // ribbed hem
  if (r.chance(0.5)) {
    const cuff = (t) => [s.cuffIn[0] + (s.cuffOut[0] - s.cuffIn[0]) * t - 0.03, s.cuffIn[1] + (s.cuffOut[1] - s.cuffIn[1]) * t - 0.07];
    parts.push(detail([R(...cuff(0)), R(...cuff(1))]), detail([L(...cuff(0)), L(...cuff(1))]));
  }
  if (r.chance(0.4)) parts.push(detail([L(neck * 0.7, 0.04), Lc(0, 0.16), R(neck * 0.7, 0.04)]));
  return parts;
}

/** A fitted top on shoulder straps, a waist, and a skirt flaring out to a curved hem. */
function dress(r) {
  const sw = r.range(0.1, 0.14); // half the shoulders
  const ww = r.range(0.08, 0.12); // half the waist
  const hw = r.range(0.28, 0.42); // half the hem
  const waist = r.range(0.32, 0.42);
  const sleeves = r.chance(0.3);
  const top = sleeves
    ? [R(0.06, 0), R(sw + 0.06, 0.04), R(sw + 0.1, 0.14), R(sw, 0.15)]
    : [R(0.06, 0), R(sw, 0.02)];
  const left = top.map(([x, y]) => [1 - x, y]).reverse();
  const parts = [body([...top, Rc(sw - 0.03, 0.2), R(ww, waist), R(hw, 1), Rc(0, 1.06), L(hw, 1), L(ww, waist), Lc(sw - 0.03, 0.2), ...left, Lc(0, r.range(0.08, 0.16))])];
  if (r.chance(0.5)) parts.push(detail([L(ww, waist), R(ww, waist)])); // waist seam
  if (r.chance(0.3)) parts.push(detail([R(0.02, waist + 0.05), R(hw * 0.35, 0.95)]), detail([L(0.02, waist + 0.05), L(hw * 0.35, 0.95)]));
  return parts;
}

/** Long body (longer than the sleeves), lapels and a front opening down to the hem. */
function coat(r) {
  const h = r.range(1.05, 1.25);
  const bw = r.range(0.2, 0.26);
  const neck = r.range(0.07, 0.1);
  const s = longSleeved(r, { h: h * 0.85, bw, a: r.range(1.05, 1.3), neck });
  s.outline[5] = R(bw + 0.02, h);
  s.outline[6] = L(bw + 0.02, h);
  const parts = [body([...s.outline, Lc(0, 0.08)])];
  const v = r.range(0.22, 0.38); // where the lapels meet
  parts.push(detail([L(neck, 0.01), R(0, v)]), detail([R(neck, 0.01), R(0, v), R(0.01, h)])); // lapels + opening
  if (r.chance(0.5)) parts.push(detail([L(bw * 0.8, h * 0.6), L(bw * 0.3, h * 0.6)]), detail([R(bw * 0.3, h * 0.6), R(bw * 0.8, h * 0.6)])); // pockets
  if (r.chance(0.3)) parts.push(detail([L(bw, h * 0.45), R(bw, h * 0.45)])); // belt
  return parts;
}

/** Long sleeves, a pointed collar and a line of buttons. */
function shirt(r) {
  const h = r.range(0.85, 1.0);
  const bw = r.range(0.22, 0.28);
  const neck = r.range(0.07, 0.1);
  const s = longSleeved(r, { h, bw, a: r.range(0.9, 1.25), neck });
  const parts = [body([...s.outline, Lc(0, 0.06)])];
  const tip = r.range(0.12, 0.18);
  parts.push(detail([L(neck, 0), L(0.01, tip), L(neck + 0.05, tip - 0.02), L(neck + 0.01, 0)])); // collar
  parts.push(detail([R(neck, 0), R(0.01, tip), R(neck + 0.05, tip - 0.02), R(neck + 0.01, 0)]));
  if (r.chance(0.7)) parts.push(detail([R(0, tip), R(0, h)])); // button placket
  const buttons = r.int(0, 5);
  for (let i = 0; i < buttons; i++) parts.push(detail([R(0.03, tip + 0.05 + ((h - tip - 0.1) * i) / Math.max(1, buttons - 1))]));
  if (r.chance(0.4)) parts.push(detail([L(bw * 0.85, 0.3), L(bw * 0.35, 0.3), L(bw * 0.35, 0.42), L(bw * 0.85, 0.42)])); // pocket
  return parts;
}

/** A sole and straps over the foot with gaps between them: arches rising toward the ankle, or crossed. */
function sandal(r) {
  const th = r.range(0.04, 0.08); // sole thickness
  const heel = r.chance(0.4) ? r.range(0.05, 0.12) : 0; // a raised heel at the back
  const top = 0.5;
  const parts = [body([[0.03, top - heel], [0.3, top], [0.92, top], c(1.02, top + th * 0.3), [0.94, top + th], [0.3, top + th], [0.2, top + th], [0.12, top + th + heel], [0.04, top + th + heel], c(-0.01, top - heel)])];
  const ankle = [0.2, top - heel - r.range(0.3, 0.4)];
  if (r.chance(0.6)) {
    parts.push(line([[0.93, top], c(0.82, top - r.range(0.16, 0.22)), [0.7, top]])); // toe strap
    parts.push(line([[0.64, top], c(0.54, top - r.range(0.28, 0.36)), [0.44, top]])); // instep strap
  } else {
    parts.push(line([[0.9, top], [0.6, top - r.range(0.25, 0.3)], [0.42, top]]), line([[0.45, top - 0.28], [0.78, top - 0.02]])); // crossed straps
  }
  // Heel strap: a rounded arch up from the heel, around the ankle, down in front of it.
  parts.push(line([[0.05, top - heel], c(0.04, ankle[1]), [0.2, ankle[1]], c(0.36, ankle[1] + 0.02), [0.38, top]]));
  return parts;
}

/** Low profile: flat sole, rounded toe, a dip at the collar; laces and a sole line as details. */
function sneaker(r) {
  const hh = r.range(0.3, 0.42); // height at the heel
  const parts = [body([[0.02, 0.42], [0.94, 0.42], c(1.03, 0.4), [0.99, 0.3], c(0.88, 0.22), [0.66, 0.15], [0.48, 0.42 - hh - 0.03], [0.38, 0.42 - hh + 0.06], [0.1, 0.42 - hh], c(-0.02, 0.42 - hh * 0.4)])];
  if (r.chance(0.6)) parts.push(detail([[0.02, 0.35], [0.97, 0.35]])); // sole
  const laces = r.int(0, 3);
  for (let i = 0; i < laces; i++) parts.push(detail([[0.5 + i * 0.06, 0.42 - hh + 0.06 + i * 0.03], [0.56 + i * 0.06, 0.42 - hh + 0.14 + i * 0.02]]));
  if (r.chance(0.3)) parts.push(detail([[0.25, 0.3], c(0.45, 0.34), [0.6, 0.24]])); // side stripe
  return parts;
}

/** Body, and a handle arc above it; the flap or clasp sits toward the front (right). */
function bag(r) {
  const top = r.range(0.3, 0.45);
  const taper = r.range(-0.04, 0.1);
  const round = r.chance(0.5);
  const parts = [body(round
    ? [[taper, top], [1 - taper, top], [1, 0.9], c(1, 1), [0.85, 1], [0.15, 1], c(0, 1), [0, 0.9]]
    : [[taper, top], [1 - taper, top], [1, 1], [0, 1]])];
  const hw = r.range(0.15, 0.3); // half the handle's width
  const hx = r.range(0.5, 0.6); // handle centre, toward the front
  parts.push(line([[hx - hw, top], c(hx, top - r.range(0.4, 0.65)), [hx + hw, top]]));
  if (r.chance(0.5)) parts.push(detail([[taper + 0.02, top + 0.02], [0.55, top + 0.3], [1 - taper - 0.02, top + 0.02]])); // flap
  else if (r.chance(0.5)) parts.push(detail([[0.7, top + 0.15]])); // clasp
  return parts;
}

/** A shoe with a shaft up to the ankle, a block heel, and a sole line. */
function ankleBoot(r) {
  const shaft = r.range(0.35, 0.5); // shaft width
  const h = r.range(0.85, 1.0);
  const toe = r.range(0.9, 1.0);
  const heelH = r.range(0.05, 0.12);
  const bottom = h;
  const parts = [body([[0.04, 0], [shaft, 0], [shaft + 0.03, h * 0.5], c(shaft + 0.08, h * 0.62), [toe * 0.75, h * 0.68], c(toe + 0.04, h * 0.72), [toe, bottom - heelH],
    [toe - 0.02, bottom - heelH], [0.3, bottom - heelH], [0.28, bottom], [0.03, bottom], [0.0, bottom - heelH - 0.1]])];
  if (r.chance(0.6)) parts.push(detail([[0.02, bottom - heelH - 0.05], [toe - 0.02, bottom - heelH - 0.05]])); // sole
  if (r.chance(0.4)) for (let i = 0; i < 3; i++) parts.push(detail([[shaft - 0.1, 0.1 + i * 0.12], [shaft + 0.01, 0.14 + i * 0.12]])); // laces
  else if (r.chance(0.5)) parts.push(detail([[0.12, 0.2], c(0.22, 0.55), [shaft - 0.05, 0.2]])); // elastic side panel
  return parts;
}

const SHAPES = [tshirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankleBoot];

// ---------------------------------------------------------------------------------------------
// Geometry helpers.

/** Expands quadratic-curve control points into polyline points (n per curve). */
function expand(pts, closed, n = 8) {
  const out = [];
  const m = pts.length;
  for (let i = 0; i < m; i++) {
    const p = pts[i];
    if (p[2] !== 'c') {
      out.push([p[0], p[1]]);
      continue;
    }
    const a = pts[(i - 1 + m) % m];
    const b = pts[(i + 1) % m];
    if (!closed && (i === 0 || i === m - 1)) continue;
    for (let k = 1; k < n; k++) {
      const t = k / n;
      const u = 1 - t;
      out.push([u * u * a[0] + 2 * u * t * p[0] + t * t * b[0], u * u * a[1] + 2 * u * t * p[1] + t * t * b[1]]);
    }
  }
  return out;
}

/** Cumulative lengths along a polyline. */
function lengths(poly) {
  const acc = [0];
  for (let i = 1; i < poly.length; i++) acc.push(acc[i - 1] + Math.hypot(poly[i][0] - poly[i - 1][0], poly[i][1] - poly[i - 1][1]));
  return acc;
}

/**
 * What the pad records when a hand traces `poly`: points every 2–8 px (pointer events at the
 * hand's speed), a slow sideways wobble and a little tremor. One point for a dot.
 */
export function pointerize(poly, r, { wobble = 1, speed = r.range(2.5, 6) } = {}) {
  const acc = lengths(poly);
  const total = acc[acc.length - 1];
  if (poly.length < 2 || total < 1.5) return [poly[0]];
  const waves = [
    [r.range(0.4, 1.6) * wobble, r.range(70, 170), r.range(0, 6.283)],
    [r.range(0.15, 0.5) * wobble, r.range(18, 45), r.range(0, 6.283)],
  ];
  const out = [];
  let seg = 1;
  for (let s = 0; ; ) {
    while (seg < poly.length - 1 && acc[seg] < s) seg++;
    const [a, b] = [poly[seg - 1], poly[seg]];
    const len = acc[seg] - acc[seg - 1] || 1;
    const t = Math.min(1, Math.max(0, (s - acc[seg - 1]) / len));
    const [nx, ny] = [-(b[1] - a[1]) / len, (b[0] - a[0]) / len];
    let off = 0;
    for (const [amp, wl, ph] of waves) off += amp * Math.sin((6.283 * s) / wl + ph);
    out.push([a[0] + (b[0] - a[0]) * t + nx * off + r.gauss() * 0.15, a[1] + (b[1] - a[1]) * t + ny * off + r.gauss() * 0.15]);
    if (s >= total) break;
    s = Math.min(total, s + Math.min(8, Math.max(2, speed * r.range(0.7, 1.35))));
  }
  return out;
}

/**
 * Hatching that fills a closed polygon: parallel lines `gap` apart at `angle`, each run of
 * lines joined into a zigzag (as one scribbles) unless `zigzag` is off; lines are kept
 * `inset` inside the edge so the fill does not bulge past the outline.
 */
function hatch(poly, { angle, gap, inset, zigzag }) {
  const [cs, sn] = [Math.cos(angle), Math.sin(angle)];
  const rot = poly.map(([x, y]) => [x * cs + y * sn, -x * sn + y * cs]); // hatch lines become horizontal
  const ys = rot.map((p) => p[1]);
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const lines = Math.max(1, Math.ceil((y1 - y0) / gap));
  const step = (y1 - y0) / lines;
  const chains = [];
  let open = [];
  for (let k = 0; k < lines; k++) {
    const y = y0 + step * (k + 0.5);
    const xs = [];
    for (let i = 0; i < rot.length; i++) {
      const [a, b] = [rot[i], rot[(i + 1) % rot.length]];
      if ((a[1] <= y) !== (b[1] <= y)) xs.push(a[0] + ((y - a[1]) / (b[1] - a[1])) * (b[0] - a[0]));
    }
    xs.sort((p, q) => p - q);
    const next = [];
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const mid = (xs[i] + xs[i + 1]) / 2;
      const [xa, xb] = [Math.min(mid, xs[i] + inset), Math.max(mid, xs[i + 1] - inset)];
      // Continue the chain whose last run overlaps this one; else start a new chain.
      const chain = zigzag && open.find((ch) => !next.includes(ch) && ch.xa <= xb && ch.xb >= xa);
      if (chain) {
        const fwd = chain.pts.length % 4 === 0;
        chain.pts.push(...(fwd ? [[xa, y], [xb, y]] : [[xb, y], [xa, y]]));
        Object.assign(chain, { xa, xb });
        next.push(chain);
      } else {
        const ch = { xa, xb, pts: [[xa, y], [xb, y]] };
        chains.push(ch);
        next.push(ch);
      }
    }
    open = next;
  }
  return chains.map((ch) => ch.pts.map(([x, y]) => [x * cs - y * sn, x * sn + y * cs]));
}

// ---------------------------------------------------------------------------------------------
// One drawing.

/** The drawing variant for index i: split by parity, style and size cycling so both splits get each. */
function variant(i) {
  return {
    split: i % 2 === 0 ? 'dev' : 'heldout',
    style: Math.floor(i / 2) % 5 < 2 ? 'filled' : 'outline',
    size: ['large', 'small', 'large', 'medium', 'small', 'large'][Math.floor(i / 2) % 6],
  };
}

function generate(label, i, splitAs) {
  const id = `gen-${SLUGS[label]}-${String(i).padStart(3, '0')}`;
  const r = rng(id);
  const { split: parity, style, size } = variant(i);
  const split = splitAs ?? parity;
  let parts = SHAPES[label](r);

  // Per-control-point jitter: nobody draws the same garment twice.
  parts = parts.map((p) => ({ ...p, pts: p.pts.map(([x, y, t]) => [x + r.gauss() * 0.012, y + r.gauss() * 0.012, t]) }));
  const facingRight = r.chance(0.5);
  const mirror = FACING.has(label) ? !facingRight : r.chance(0.3);
  const rotation = r.range(-12, 12) * (Math.PI / 180);
  const [cs, sn] = [Math.cos(rotation), Math.sin(rotation)];
  let polys = parts.map((p) => ({ ...p, pts: expand(p.pts, p.closed).map(([x, y]) => {
    const xm = mirror ? 1 - x : x;
    return [xm * cs - y * sn, xm * sn + y * cs];
  }) }));

  // Place: the longest side (with the brush) a fraction of the pad, anywhere it fits.
  const frac = { small: r.range(0.3, 0.5), medium: r.range(0.5, 0.7), large: r.range(0.7, 0.95) }[size];
  const extent = frac * CANVAS;
  const brush = Math.round(Math.min(r.chance(0.5) ? r.range(6, 14) : r.range(14, 32), Math.max(6, extent * (MAX_BRUSH[label] ?? 0.16))));
  const all = polys.flatMap((p) => p.pts);
  const [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  const scale = (extent - brush) / Math.max(x1 - x0, y1 - y0);
  const [w, h] = [(x1 - x0) * scale + brush, (y1 - y0) * scale + brush];
  const ox = r.range(2, CANVAS - 2 - w) + brush / 2 - x0 * scale;
  const oy = r.range(2, CANVAS - 2 - h) + brush / 2 - y0 * scale;
  polys = polys.map((p) => ({ ...p, pts: p.pts.map(([x, y]) => [ox + x * scale, oy + y * scale]) }));

  const wobble = Math.max(0.4, extent / 200);
  const strokes = [];
  const add = (poly, opts) => strokes.push({ size: brush, points: pointerize(poly, r, { wobble, ...opts }) });
  for (const p of polys) {
    if (p.role === 'detail' && style === 'filled') continue;
    if (!p.closed) {
      add(r.chance(0.3) ? [...p.pts].reverse() : p.pts);
      continue;
    }
    // A closed outline starts anywhere, may overshoot its start, and is sometimes drawn in two strokes.
    const start = r.chance(0.5) ? r.int(0, p.pts.length - 1) : 0;
    const ring = [...p.pts.slice(start), ...p.pts.slice(0, start)];
    ring.push(ring[0]);
    if (r.chance(0.4)) ring.push(ring[1].map((v, k) => ring[0][k] + (v - ring[0][k]) * 0.15));
    if (r.chance(0.25)) {
      const cut = r.int(2, ring.length - 3);
      add(ring.slice(0, cut + 1));
      add(ring.slice(cut));
    } else add(ring);
    if (style === 'filled' && p.role === 'body') {
      const gap = brush * r.range(0.6, 0.95);
      const angle = r.range(0, Math.PI);
      for (const z of hatch(p.pts, { angle, gap, inset: brush * 0.3, zigzag: r.chance(0.7) })) add(z, { wobble: wobble * 0.5, speed: r.range(4, 7) });
    }
  }
  for (const s of strokes) s.points = s.points.map(([x, y]) => [round1(clamp(x)), round1(clamp(y))]);
  return {
    id, label, class: CLASSES[label], split, source: 'generated', style,
    facing: FACING.has(label) ? (mirror ? 'left' : 'right') : null, strokes,
  };
}

const clamp = (v) => Math.min(CANVAS, Math.max(0, v));
const round1 = (v) => Math.round(v * 10) / 10;

/** The drawings file, one stroke per line so that diffs stay readable. */
export function serialize(drawings) {
  const lines = ['{"format": "prunelab-drawings", "version": 1, "canvas": 280, "drawings": ['];
  drawings.forEach((d, k) => {
    const { strokes, ...meta } = d;
    const head = JSON.stringify(meta).slice(0, -1);
    const body = strokes.map((s) => `  {"size": ${s.size}, "points": ${JSON.stringify(s.points)}}`).join(',\n');
    lines.push(`${head}, "strokes": [\n${body}\n]}${k + 1 < drawings.length ? ',' : ''}`);
  });
  lines.push(']}', '');
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // --pool FILE: 60 further drawings per class (indices 100–159), all dev, for choosing between
  // models with less noise than the 170 dev drawings give; written where asked, never committed.
  const pool = process.argv.indexOf('--pool');
  if (pool > 0 && !process.argv[pool + 1]) {
    console.error('usage: node scripts/make-drawings.mjs [--pool FILE]');
    process.exit(1);
  }
  const [first, count] = pool > 0 ? [100, POOL] : [0, PER_CLASS];
  const drawings = [];
  for (let label = 0; label < CLASSES.length; label++) {
    for (let i = first; i < first + count; i++) drawings.push(generate(label, i, pool > 0 ? 'dev' : undefined));
  }
  const out = pool > 0 ? process.argv[pool + 1] : fileURLToPath(new URL('../www/drawings/generated.json', import.meta.url));
  writeFileSync(out, serialize(drawings));
  console.log(`wrote ${out}: ${drawings.length} drawings, ${drawings.reduce((n, d) => n + d.strokes.reduce((m, s) => m + s.points.length, 0), 0)} points`);
}
