/**
 * `#banner`: the one important message of the page (a refused token, an
 * incompatible server, a plan that cannot be read...). Present only while
 * there is such a message; `data-kind` says which.
 */
import { el } from '../dom.js';

/** The banner slot under the header. */
export class Banner {
  /** @param {HTMLElement} slot the element the banner is put in */
  constructor(slot) {
    this.slot = slot;
    this.owner = null;
  }

  /**
   * Show a message, replacing any other.
   * @param {string} kind unauthorized | forbidden | incompatible | token_expired | protocol | not_found ...
   * @param {string} text readable text (shown as text)
   * @param {string} owner who shows it (a view clears only its own banner)
   */
  show(kind, text, owner) {
    this.clear();
    this.owner = owner;
    const banner = el(
      'div',
      { className: 'banner', attrs: { id: 'banner', role: 'alert' }, dataset: { kind } },
      el('span', { className: 'banner-text' }, text),
    );
    this.slot.append(banner);
  }

  /**
   * Remove the banner; with `owner`, only if that owner showed it.
   * @param {string} [owner]
   */
  clear(owner) {
    if (owner !== undefined && owner !== this.owner) return;
    this.slot.querySelector('#banner')?.remove();
    this.owner = null;
  }

  /** @returns {string|null} the kind shown, or null */
  kind() {
    return this.slot.querySelector('#banner')?.dataset.kind ?? null;
  }
}
