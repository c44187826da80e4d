// The lab's state in its link (DOM only). The settings are the page's own controls, named in
// SETTINGS; a link restores each one, and moving a control rewrites the link in place (no new
// history entry). The layout parameters choose what a visitor sees:
//   panels=data,train,prune,draw   the panels shown (all by default)
//   hide=<names>                   controls hidden: any setting below, or a button in HIDEABLE
//   embed=1                        the frame layout for an iframe: no header or footer
//                                  (embed=<panel>, the older form, is panels=<panel>&embed=1)
//   guess=1                        predict, then reveal: a guess before every prune and sweep
// A value the control would not take is ignored, and said in the page (notes), never fatal.
// Trained weights are not in the link: `seed` makes training repeat exactly on the CPU backend.

import { $ } from './format.js';

/** URL name → the control it sets (an element id, or a radio group's name), and its name for a person. */
export const SETTINGS = {
  model: { id: 'train-model', text: 'model choice' },
  backend: { id: 'backend-select', text: 'backend choice' },
  method: { radio: 'prune-method', text: 'method' },
  scope: { id: 'prune-scope', text: 'scope' },
  variant: { id: 'prune-variant', text: 'variant' },
  sparsity: { id: 'prune-sparsity', text: 'sparsity slider' },
  connected: { id: 'prune-connected', text: 'only connected weights box' },
  reconstruct: { id: 'prune-reconstruct', text: 'reconstruct box' },
  ft: { id: 'prune-ft', text: 'fine-tune epochs' },
  epochs: { id: 'train-epochs', text: 'epochs' },
  batch: { id: 'train-batch', text: 'batch size' },
  lr: { id: 'train-lr', text: 'learning rate' },
  limit: { id: 'train-limit', text: 'subset size' },
  seed: { id: 'train-seed', text: 'seed' },
};

/** hide= names besides the settings: buttons and groups a course may want out of reach. */
export const HIDEABLE = {
  train: { ids: ['train-start', 'train-cancel'], text: 'Train button' },
  augment: { ids: ['train-augment-label'], text: 'Augment' },
  modelfile: { ids: ['model-file'], text: 'model file' },
  prune: { ids: ['prune-start'], text: 'Prune button' },
  sweep: { ids: ['sweep-start', 'sweep-scopes-label'], text: 'Sweep' },
  sensitivity: { ids: ['sensitivity-start'], text: 'Measure sensitivity' },
  reset: { ids: ['prune-reset'], text: 'Reset to dense' },
  backendswitch: { ids: ['backend-switch'], text: 'Switch backend' },
  link: { ids: ['copy-link', 'embed-open'], text: 'Copy link and Embed' },
};

export const PANELS = ['data', 'train', 'prune', 'draw'];

/** What a control shows: the element to hide (its label, or the radio group's fieldset). */
function holder(spec) {
  if (spec.radio) return document.querySelector(`input[name="${spec.radio}"]`).closest('fieldset');
  const input = $(spec.id);
  return input.closest('label') ?? input.parentElement;
}

function read(spec) {
  if (spec.radio) return document.querySelector(`input[name="${spec.radio}"]:checked`)?.value ?? '';
  const input = $(spec.id);
  return input.type === 'checkbox' ? (input.checked ? '1' : '0') : input.value;
}

/** Sets a control to `text`; returns null, or why the control refuses it. */
function write(spec, text) {
  if (spec.radio) {
    const choice = document.querySelector(`input[name="${spec.radio}"][value="${CSS.escape(text)}"]`);
    if (!choice) return `one of ${[...document.querySelectorAll(`input[name="${spec.radio}"]`)].map((r) => r.value).join(', ')}`;
    choice.checked = true;
    return null;
  }
  const input = $(spec.id);
  if (input.type === 'checkbox') {
    if (!['0', '1'].includes(text)) return '1 or 0';
    input.checked = text === '1';
    return null;
  }
  if (input.tagName === 'SELECT') {
    const values = [...input.options].map((o) => o.value);
    if (!values.includes(text)) return `one of ${values.join(', ')}`;
    input.value = text;
    return null;
  }
  const v = Number(text);
  const [min, max] = [input.min === '' ? -Infinity : Number(input.min), input.max === '' ? Infinity : Number(input.max)];
  const whole = input.step !== 'any';
  const range = `${whole ? 'a whole number' : 'a number'}${min > -Infinity ? ` from ${min}` : ''}${max < Infinity ? ` to ${max}` : ''}`;
  if (text.trim() === '' || !Number.isFinite(v) || v < min || v > max || (whole && !Number.isInteger(v))) return range;
  if (input.min === '0' && input.step === 'any' && v === 0) return 'a number above 0';
  // Number() takes forms a number field does not ('0x2', ' 2'): the field would empty itself.
  const before = input.value;
  input.value = text;
  if (input.value === '') {
    input.value = before;
    return `${range}, written as digits`;
  }
  return null;
}

/**
 * Reads the link once, at the start: sets the controls it names (firing their input and change
 * events, so the panels follow), and returns the layout: {panels, hide, embed, guess, notes}.
 */
export function restore(search = location.search) {
  const params = new URLSearchParams(search);
  const notes = [];
  const ignore = (name, value, why) => {
    notes.push(`${name}=${value} (${why})`);
    return false;
  };
  const defaults = Object.fromEntries(Object.entries(SETTINGS).map(([name, spec]) => [name, read(spec)]));

  for (const [name, spec] of Object.entries(SETTINGS)) {
    if (!params.has(name)) continue;
    const value = params.get(name);
    const why = write(spec, value);
    if (why) {
      ignore(name, value, `must be ${why}`);
      continue;
    }
    const input = spec.radio ? document.querySelector(`input[name="${spec.radio}"]:checked`) : $(spec.id);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }

  const list = (name) => (params.get(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const embed = params.get('embed');
  let panels = list('panels').filter((p) => PANELS.includes(p) || ignore('panels', p, `panels are ${PANELS.join(', ')}`));
  if (PANELS.includes(embed) && !params.has('panels')) panels = [embed];
  else if (embed !== null && !['1', '0', ...PANELS].includes(embed)) ignore('embed', embed, 'must be 1 or a panel');
  if (!panels.length) panels = PANELS;

  const hide = list('hide').filter((h) => h in SETTINGS || h in HIDEABLE || ignore('hide', h, `not a control: ${[...Object.keys(SETTINGS), ...Object.keys(HIDEABLE)].join(', ')}`));
  const guess = params.get('guess');
  if (guess !== null && !['0', '1'].includes(guess)) ignore('guess', guess, 'must be 1 or 0');

  for (const name of params.keys()) {
    if (!(name in SETTINGS) && !['panels', 'hide', 'embed', 'guess'].includes(name)) ignore(name, params.get(name), 'not a setting of the lab');
  }
  return { panels, hide, embed: embed !== null && embed !== '0', guess: guess === '1', notes, defaults };
}

/** Hides the panels and controls the link leaves out. */
export function applyLayout({ panels, hide }) {
  for (const p of PANELS) $(`panel-${p}`).hidden = !panels.includes(p);
  for (const name of hide) {
    const targets = name in SETTINGS ? [holder(SETTINGS[name])] : HIDEABLE[name].ids.map((id) => $(id));
    for (const t of targets) t?.classList.add('url-hidden');
  }
}

/** The link for the page as it is now: changed settings, then the layout parameters as given. */
export function currentLink(defaults, search = location.search) {
  const given = new URLSearchParams(search);
  const params = new URLSearchParams();
  for (const [name, spec] of Object.entries(SETTINGS)) {
    const value = read(spec);
    if (value !== defaults[name]) params.set(name, value);
  }
  for (const name of ['panels', 'hide', 'embed', 'guess']) if (given.has(name)) params.set(name, given.get(name));
  const query = params.toString().replace(/%2C/g, ',');
  return `${location.origin}${location.pathname}${query ? `?${query}` : ''}`;
}

/** Keeps the address bar in step with the controls, without adding history entries. */
export function follow(defaults) {
  const update = () => history.replaceState(history.state, '', currentLink(defaults));
  for (const spec of Object.values(SETTINGS)) {
    const inputs = spec.radio ? document.querySelectorAll(`input[name="${spec.radio}"]`) : [$(spec.id)];
    for (const input of inputs) {
      input.addEventListener('input', update);
      input.addEventListener('change', update);
    }
  }
  update();
}
