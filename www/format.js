// Shared formatting and small DOM helpers for the page's panels.

export const $ = (id) => document.getElementById(id);

export const int = (n) => Math.round(n).toLocaleString('en');
export const pct = (x, digits = 1) => `${(x * 100).toFixed(digits)} %`;
export const mb = (b) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} kB`);
export const seconds = (s) => (s >= 90 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(s < 10 ? 1 : 0)} s`);
export const ms = (t) => (t >= 1000 ? seconds(t / 1000) : `${t.toFixed(0)} ms`);
export const capitalize = (s) => s.charAt(0).toUpperCase() + s.slice(1);

/** An element with text content (never HTML, so Lab strings cannot inject markup). */
export function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = text;
  if (className) e.className = className;
  return e;
}

/** Appends one name/value pair to a <dl>. */
export function term(dl, name, value) {
  dl.append(el('dt', name), el('dd', value));
}

/** A number input's value, or undefined when blank; throws when out of range. */
export function numberField(id, name) {
  const input = $(id);
  if (input.value.trim() === '') return undefined;
  const v = Number(input.value);
  if (!Number.isFinite(v) || !input.checkValidity()) throw new Error(`${name}: ${input.validationMessage || 'not a valid number'}`);
  return v;
}
