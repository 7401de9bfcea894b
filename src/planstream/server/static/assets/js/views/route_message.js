/**
 * A page that only explains something: an invalid plan id in the address, an
 * unknown route. Shown instead of a view (never as a broken page).
 */
import { el } from '../dom.js';

/** A static message with a way back to the list. */
export class RouteMessage {
  /**
   * @param {{id: string, title: string, text: string, detail?: string}} options
   *   `detail` (e.g. the offending id) is shown as text, control characters visible
   */
  constructor({ id, title, text, detail }) {
    this.element = el(
      'section',
      { className: 'panel route-message', attrs: { id, role: 'alert' } },
      el('h1', {}, title),
      el('p', {}, text),
      detail === undefined ? null : el('p', {}, el('code', { className: 'offending' }, detail)),
      el('p', {}, el('a', { attrs: { id: 'back-to-list', href: '#/' } }, '← all plans')),
    );
  }

  mount() {}

  unmount() {}
}
