/**
 * The token form (`#token-form`), shown when the server asks for a token or
 * refused one, and `#token-forget`, shown in the header while a token is kept.
 *
 * The token itself is never put in the page's text: the input is a password
 * field and is emptied once the token has been handed over.
 */
import { el } from '../dom.js';

/** The form and the forget button. */
export class TokenForm {
  /**
   * @param {{formSlot: HTMLElement, forgetSlot: HTMLElement,
   *          onToken: (token: string) => void, onForget: () => void}} options
   */
  constructor({ formSlot, forgetSlot, onToken, onForget }) {
    this.formSlot = formSlot;
    this.forgetSlot = forgetSlot;
    this.onToken = onToken;
    this.onForget = onForget;
  }

  /** Show the form (once) and put the cursor in it. */
  show() {
    if (this.formSlot.querySelector('#token-form')) {
      this.formSlot.querySelector('#token-input').focus();
      return;
    }
    const input = el('input', {
      attrs: {
        id: 'token-input',
        type: 'password',
        name: 'token',
        autocomplete: 'off',
        spellcheck: 'false',
        required: true,
        placeholder: 'reader token',
      },
    });
    const form = el(
      'form',
      { className: 'token-form', attrs: { id: 'token-form', novalidate: true } },
      el('label', { attrs: { for: 'token-input' } }, 'Access token'),
      input,
      el('button', { className: 'primary', attrs: { id: 'token-submit', type: 'submit' } }, 'Use token'),
      el('p', { className: 'hint' }, 'Kept in this tab only (sessionStorage) until you close it.'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (!token) {
        input.focus();
        return;
      }
      input.value = '';
      this.onToken(token);
    });
    this.formSlot.append(form);
    input.focus();
  }

  /** Remove the form. */
  hide() {
    this.formSlot.querySelector('#token-form')?.remove();
  }

  /**
   * Show or remove `#token-forget` (shown while a token is kept).
   * @param {boolean} tokenKept
   */
  showForget(tokenKept) {
    const existing = this.forgetSlot.querySelector('#token-forget');
    if (!tokenKept) {
      existing?.remove();
      return;
    }
    if (existing) return;
    const button = el(
      'button',
      { className: 'quiet', attrs: { id: 'token-forget', type: 'button', title: 'Forget the token kept in this tab' } },
      'Forget token',
    );
    button.addEventListener('click', () => this.onForget());
    this.forgetSlot.append(button);
  }
}
