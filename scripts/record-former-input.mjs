// Records tests/drawings/former-input.json: for every drawing of drawings/generated.json and
// www/drawings/hand.json, the 28×28 input the page made from it before the conversion moved into
// Rust (www/draw.js toInput at commit ddf6a3e), as 784 bytes (each value is k/255; k is stored)
// in base64. Headless Chromium renders each drawing as DrawPad.render did and runs that toInput.
// And tests/drawings/former-pads.bin.gz: the pad each drawing was painted on (the input to
// that toInput), so that tests/drawings.rs can give the engine's conversion the same pixels:
// gzip of one JSON line ({"recorded_with", "side", "ids"}) then side × side grey bytes per id.
//
//   node scripts/record-former-input.mjs            (CHROMIUM=/path overrides /usr/bin/chromium)
//   node scripts/record-former-input.mjs --sheet    also writes test-results/drawings-sheet.png:
//                                                   every drawing, its 28×28 input, its id
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const root = new URL('..', import.meta.url);
const FILES = ['www/drawings/generated.json', 'www/drawings/hand.json'];
const OUT = 'tests/drawings/former-input.json';
const PADS = 'tests/drawings/former-pads.bin.gz';
const SHEET = 'test-results/drawings-sheet.png';

// --- Page code: these functions run in Chromium (injected by their source text). ------------

const SIDE = 28;

// The former implementation, copied verbatim from www/draw.js at commit ddf6a3e (there it is
// `export function toInput`). Do not edit: the fixture records what this code produced.
function toInput(source) {
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
 * A fresh pad canvas with the strokes drawn as DrawPad's constructor and render() did at
 * ddf6a3e (www/draw.js). A frozen copy on purpose, like toInput: the fixture must not follow
 * later edits of the page.
 */
function padCanvas(side, strokes) {
  const canvas = document.createElement('canvas');
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.imageSmoothingEnabled = false;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = ctx.fillStyle = '#fff';
  ctx.lineCap = ctx.lineJoin = 'round';
  for (const s of strokes) {
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
  return canvas;
}

/**
 * For each drawing, by id: the bytes k (value k/255) of toInput (null for a blank drawing) and
 * the pad's grey levels it read.
 */
function recordInputs(side, drawings) {
  const out = {};
  for (const d of drawings) {
    const pad = padCanvas(side, d.strokes);
    const rgba = pad.getContext('2d').getImageData(0, 0, side, side).data;
    const input = toInput(pad);
    out[d.id] = { input: input && Array.from(input, (v) => Math.round(v * 255)), pad: Array.from({ length: side * side }, (_, i) => rgba[4 * i]) };
  }
  return out;
}

/** A PNG data URL: one row per class, each drawing above its 28×28 input and its id. */
function contactSheet(side, drawings, inputs) {
  const [tile, small, pad, text] = [100, 56, 4, 11];
  const rows = [];
  for (const d of drawings) (rows[d.label] ??= []).push(d);
  const cols = Math.max(...rows.map((r) => r.length));
  const [cw, ch] = [tile + pad, tile + small + text + 2 * pad];
  const sheet = document.createElement('canvas');
  sheet.width = cols * cw + pad;
  sheet.height = rows.length * ch + pad;
  const ctx = sheet.getContext('2d');
  ctx.fillStyle = '#445';
  ctx.fillRect(0, 0, sheet.width, sheet.height);
  rows.forEach((row, r) => row.forEach((d, k) => {
    const [x, y] = [pad + k * cw, pad + r * ch];
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(padCanvas(side, d.strokes), x, y, tile, tile);
    if (d.source === 'hand') {
      ctx.strokeStyle = '#fc3';
      ctx.strokeRect(x + 0.5, y + 0.5, tile - 1, tile - 1);
    }
    const img = new ImageData(SIDE, SIDE);
    (inputs[d.id] ?? []).forEach((v, i) => img.data.set([v, v, v, 255], i * 4));
    const c28 = document.createElement('canvas');
    c28.width = c28.height = SIDE;
    c28.getContext('2d').putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(c28, x + (tile - small) / 2, y + tile + pad, small, small);
    ctx.fillStyle = '#fff';
    ctx.font = `${text - 1}px sans-serif`;
    ctx.fillText(d.id.replace(/^gen-/, '').replace(/^hand-/, 'h ').slice(0, 18), x, y + tile + small + pad + text);
  }));
  return sheet.toDataURL('image/png');
}

// --- Node side. ---------------------------------------------------------------------------

const sets = FILES.map((f) => JSON.parse(readFileSync(new URL(f, root), 'utf8')));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  const code = [`const SIDE = ${SIDE};`, toInput, padCanvas, recordInputs, contactSheet].join('\n');
  await page.setContent(`<!doctype html><meta charset="utf-8"><script>${code}</script>`);
  const inputs = {};
  const pads = [];
  const side = sets[0].canvas;
  for (const set of sets) {
    if (set.canvas !== side) throw new Error(`the drawings files have pads of ${side} and ${set.canvas} pixels`);
    const got = await page.evaluate(([side, drawings]) => recordInputs(side, drawings), [set.canvas, set.drawings]);
    for (const [id, { input, pad }] of Object.entries(got)) {
      if (!input) throw new Error(`drawing ${id} is blank`);
      if (id in inputs) throw new Error(`drawing id ${id} appears twice`);
      inputs[id] = Buffer.from(input).toString('base64');
      pads.push(Buffer.from(pad));
    }
  }
  const fixture = { recorded_with: `Chromium ${browser.version()}`, source: 'www/draw.js toInput at ddf6a3e', inputs };
  const json = `{\n  "recorded_with": ${JSON.stringify(fixture.recorded_with)},\n  "source": ${JSON.stringify(fixture.source)},\n  "inputs": {\n${Object.entries(inputs)
    .map(([id, b64]) => `    ${JSON.stringify(id)}: "${b64}"`)
    .join(',\n')}\n  }\n}\n`;
  mkdirSync(new URL('tests/drawings/', root), { recursive: true });
  writeFileSync(new URL(OUT, root), json);
  console.log(`wrote ${OUT}: ${Object.keys(inputs).length} inputs (${fixture.recorded_with})`);
  const header = JSON.stringify({ recorded_with: fixture.recorded_with, side, ids: Object.keys(inputs) });
  writeFileSync(new URL(PADS, root), gzipSync(Buffer.concat([Buffer.from(`${header}\n`), ...pads]), { level: 9 }));
  console.log(`wrote ${PADS}: ${pads.length} pads of ${side} × ${side}`);

  if (process.argv.includes('--sheet')) {
    const all = sets.flatMap((s) => s.drawings);
    const bytes = Object.fromEntries(Object.entries(inputs).map(([id, b]) => [id, [...Buffer.from(b, 'base64')]]));
    const url = await page.evaluate(([side, drawings, ins]) => contactSheet(side, drawings, ins), [sets[0].canvas, all, bytes]);
    mkdirSync(new URL('test-results/', root), { recursive: true });
    writeFileSync(new URL(SHEET, root), Buffer.from(url.split(',')[1], 'base64'));
    console.log(`wrote ${SHEET}`);
  }
} finally {
  await browser.close();
}
