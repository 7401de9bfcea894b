/**
 * The text-only element builder: the one way the dashboard's views make DOM.
 *
 * Every string child becomes a text node (never parsed as HTML), so a log
 * line holding `<script>` or `<img onerror=...>` stays literal text. Control
 * characters are made visible and harmless on the way: ESC becomes `␛` and
 * every other C0 control except tab and newline (and DEL) becomes its Unicode
 * Control Picture, so terminal escape sequences show up as text instead of
 * being swallowed or confusing the reader.
 */

/** Attributes `el` refuses: event handlers and inline styles are what the CSP forbids. */
const REFUSED_ATTRIBUTE = /^(on|style$|srcdoc$)/i;
/** URL schemes that would run code if a link followed them. */
const SCRIPT_URL = /^\s*(javascript|data|vbscript):/i;
// C0 controls except tab (0x09) and newline (0x0A), and DEL (0x7F).
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B-\u001F\u007F]/g;

/**
 * Replace control characters by their Unicode Control Pictures (U+2400 block).
 * @param {string} text
 * @returns {string} the same text, every C0 control but tab/newline made visible
 */
export function visibleText(text) {
  return String(text).replace(CONTROL_CHARACTERS, (character) => {
    const code = character.charCodeAt(0);
    return String.fromCharCode(code === 0x7f ? 0x2421 : 0x2400 + code);
  });
}

/**
 * Build an element.
 * @param {string} tag the element name, e.g. `'tr'`
 * @param {{className?: string, attrs?: Object<string, string|number|boolean|null>,
 *          dataset?: Object<string, string|number>}} [options]
 *   `attrs`: `true` sets an empty attribute, `false`/`null`/`undefined` leaves it out
 * @param {...(Node|string|number|null|undefined|false)} children strings become text nodes;
 *   null, undefined and false are skipped
 * @returns {HTMLElement}
 */
export function el(tag, { className, attrs, dataset } = {}, ...children) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  for (const [name, value] of Object.entries(attrs ?? {})) setAttribute(element, name, value);
  for (const [name, value] of Object.entries(dataset ?? {})) element.dataset[name] = String(value);
  append(element, ...children);
  return element;
}

/**
 * Set one attribute, refusing event handlers, inline styles and script URLs.
 * @param {Element} element
 * @param {string} name
 * @param {string|number|boolean|null|undefined} value
 */
export function setAttribute(element, name, value) {
  if (REFUSED_ATTRIBUTE.test(name)) throw new Error(`el() does not set the attribute ${name}`);
  if (value === false || value === null || value === undefined) {
    element.removeAttribute(name);
    return;
  }
  const text = value === true ? '' : String(value);
  if ((name === 'href' || name === 'src') && SCRIPT_URL.test(text)) {
    throw new Error(`el() does not set a script URL on ${name}`);
  }
  element.setAttribute(name, text);
}

/**
 * Append children to `parent` (strings as visible text nodes).
 * @param {Node} parent
 * @param {...(Node|string|number|null|undefined|false)} children
 */
export function append(parent, ...children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(visibleText(child)));
  }
}

/**
 * Replace the text of `element` by `text` (made visible like `el`'s children).
 * @param {Element} element
 * @param {string|number} text
 */
export function setText(element, text) {
  const visible = visibleText(text);
  if (element.textContent !== visible) element.textContent = visible;
}

/**
 * Replace every child of `parent`.
 * @param {Element} parent
 * @param {...(Node|string|number|null|undefined|false)} children
 */
export function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  append(parent, ...children);
}
