// The embed builder (a dialog from the header's "Embed…"): choose the panels and the controls to
// hide, see the embedded lab as a course page will, and copy its iframe snippet. The link in the
// snippet carries the settings as they are now (url-state.js).

import { $, el } from '../format.js';
import { HIDEABLE, PANELS, SETTINGS, currentLink } from '../url-state.js';

/** The frame each choice of panels is laid out for (README: the pad alone fits 420×560). */
const FRAME = { draw: [420, 560], data: [640, 600], train: [720, 900], prune: [720, 1000] };
const frameFor = (panels) => (panels.length === 1 ? FRAME[panels[0]] : [900, 1100]);

const PANEL_TEXT = { data: 'Data', train: 'Train', prune: 'Prune', draw: 'Draw' };
export function setupEmbed(page) {
  const dialog = $('embed-dialog');
  let timer = null;
  let shown = '';

  const checkboxes = (box, names, text, checked) => box.replaceChildren(...names.map((name) => {
    const label = el('label', null, 'inline');
    label.title = box.id === 'embed-hide' ? `hide=${name}` : `panels=${name}`;
    const input = Object.assign(document.createElement('input'), { type: 'checkbox', value: name, checked: checked(name) });
    label.append(input, ` ${text[name] ?? name}`);
    return label;
  }));
  const chosen = (box) => [...box.querySelectorAll('input:checked')].map((i) => i.value);

  /** The embed link and snippet for the dialog's choices. */
  function snippet() {
    const panels = chosen($('embed-panels'));
    const hide = chosen($('embed-hide'));
    const url = new URL(currentLink(page.layout.defaults, ''));
    if (panels.length && panels.length < PANELS.length) url.searchParams.set('panels', panels.join(','));
    if (hide.length) url.searchParams.set('hide', hide.join(','));
    if (page.guess) url.searchParams.set('guess', '1');
    url.searchParams.set('embed', '1');
    const link = url.href.replace(/%2C/g, ',');
    const [w, h] = [Number($('embed-width').value) || 420, Number($('embed-height').value) || 560];
    const html = `<iframe src="${link.replace(/&/g, '&amp;')}" width="${w}" height="${h}" title="Prune Lab" style="border:0" allow="clipboard-write"></iframe>`;
    return { link, html, w, h, panels };
  }

  function update({ resize = false } = {}) {
    if (resize) {
      const [w, h] = frameFor(chosen($('embed-panels')));
      $('embed-width').value = w;
      $('embed-height').value = h;
    }
    const s = snippet();
    $('embed-code').value = s.html;
    const frame = $('embed-preview');
    Object.assign(frame.style, { width: `${s.w}px`, height: `${s.h}px` });
    // A new lab starts in the frame at each change: wait until the choices settle.
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (s.link !== shown) frame.src = shown = s.link;
    }, 700);
    page.state.embed = { link: s.link, snippet: s.html };
  }

  function open() {
    checkboxes($('embed-panels'), PANELS, PANEL_TEXT, (p) => p === 'draw');
    const hideable = { ...SETTINGS, ...HIDEABLE };
    checkboxes($('embed-hide'), Object.keys(hideable), Object.fromEntries(Object.entries(hideable).map(([k, v]) => [k, v.text])), () => false);
    $('embed-copied').textContent = '';
    update({ resize: true });
    dialog.showModal();
  }

  function close() {
    clearTimeout(timer);
    $('embed-preview').src = shown = 'about:blank'; // stops the frame's lab
    dialog.close();
  }

  async function copy() {
    $('embed-code').select();
    try {
      await navigator.clipboard.writeText($('embed-code').value);
      $('embed-copied').textContent = 'Snippet copied.';
    } catch {
      $('embed-copied').textContent = 'Selected: copy it with Ctrl+C (⌘C).';
    }
  }

  $('embed-open').addEventListener('click', open);
  $('embed-close').addEventListener('click', close);
  $('embed-copy').addEventListener('click', copy);
  $('embed-panels').addEventListener('change', () => update({ resize: true }));
  $('embed-hide').addEventListener('change', () => update());
  for (const id of ['embed-width', 'embed-height']) $(id).addEventListener('input', () => update());
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    close();
  });
  return { open, close };
}
