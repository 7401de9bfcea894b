/**
 * The dashboard's entry point: the token, the one stream client, the hash
 * router and the header (connection state, banner, token form).
 *
 * * Token: read from sessionStorage (`planstream.token`); without one the page
 *   tries anonymously (servers may allow anonymous readers). When the server
 *   asks for a token or refuses one, `#token-form` appears; a token entered
 *   there is kept in sessionStorage and the client is rebuilt with it.
 * * One StreamClient for the page, rebuilt only when the token changes; views
 *   subscribe when they mount and unsubscribe when they unmount.
 * * Routes: `#/` (or empty) the plan list, `#/plans/<plan_id>` a plan page.
 *
 * Every URL is relative to the page, so the dashboard works under a mount
 * prefix. Nothing here logs the token or puts it in the DOM's text.
 */
import { PlanApi } from './protocol/http.js';
import { StreamClient } from './protocol/stream_client.js';
import { Banner } from './views/banner.js';
import { ConnectionBadge } from './views/connection_badge.js';
import { PlanList } from './views/plan_list.js';
import { PlanPage } from './views/plan_page.js';
import { RouteMessage } from './views/route_message.js';
import { TokenForm } from './views/token_form.js';

/** The sessionStorage key of the token. */
export const TOKEN_KEY = 'planstream.token';
/** protocol §1: 1–256 ASCII letters, digits and `. _ : @ -`. */
export const PLAN_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,256}$/;

const FATAL_TEXT = {
  unauthorized: (hasToken) =>
    hasToken
      ? 'The token was refused by the server. Enter another token.'
      : 'The server needs a token to show its plans. Enter a reader token.',
  token_expired: () => 'The token has expired. Enter a new token.',
  forbidden: () => 'This token may not read these plans. Enter another token.',
  incompatible: (_, message) =>
    `This server speaks an incompatible protocol version; the page will not retry. ${message ?? ''}`.trim(),
  protocol: (_, message) =>
    `The server sent something this page cannot read; it stopped following. ${message ?? ''}`.trim(),
};
const NEEDS_TOKEN = new Set(['unauthorized', 'token_expired', 'forbidden']);
const BANNER_OWNER = 'connection';

/**
 * The route of a location hash.
 * @param {string} hash e.g. `#/plans/deploy-42`
 * @returns {{name: 'list'} | {name: 'plan', planId: string} |
 *           {name: 'invalid-plan', raw: string} | {name: 'unknown', raw: string}}
 */
export function parseRoute(hash) {
  const path = hash.replace(/^#/, '');
  if (path === '' || path === '/') return { name: 'list' };
  const match = /^\/plans\/(.*)$/.exec(path);
  if (!match) return { name: 'unknown', raw: path };
  let planId;
  try {
    planId = decodeURIComponent(match[1]);
  } catch {
    return { name: 'invalid-plan', raw: match[1] };
  }
  return PLAN_ID_PATTERN.test(planId) ? { name: 'plan', planId } : { name: 'invalid-plan', raw: planId };
}

/** The page: owns the client, the header and the mounted view. */
class Dashboard {
  constructor() {
    this.baseUrl = new URL('.', document.baseURI);
    this.app = document.getElementById('app');
    this.badge = new ConnectionBadge(document.getElementById('connection-state'));
    this.banner = new Banner(document.getElementById('notices'));
    this.tokenForm = new TokenForm({
      formSlot: document.getElementById('notices'),
      forgetSlot: document.getElementById('token-slot'),
      onToken: (token) => this.useToken(token),
      onForget: () => this.forgetToken(),
    });
    this.token = readToken();
    this.client = null;
    this.api = null;
    this.unsubscribers = [];
    this.view = null;
  }

  start() {
    this.buildClient();
    window.addEventListener('hashchange', () => this.route());
    this.route();
  }

  /** (Re)build the API and the stream client for the current token. */
  buildClient() {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.client?.close();
    this.badge.update({ state: 'closed' });
    this.api = new PlanApi({ baseUrl: this.baseUrl, token: this.token });
    this.client = new StreamClient({ baseUrl: this.baseUrl, token: this.token });
    this.unsubscribers = [
      this.client.onState((change) => this.badge.update(change)),
      this.client.onFatal((problem) => this.onFatal(problem)),
    ];
    this.tokenForm.showForget(this.token !== null);
  }

  /** Mount the view the hash names (unmounting the previous one). */
  route() {
    this.view?.unmount();
    const route = parseRoute(window.location.hash);
    if (route.name === 'list') {
      this.view = new PlanList({ api: this.api, client: this.client, onApiError: (error) => this.onApiError(error) });
      document.title = 'plans · planstream';
    } else if (route.name === 'plan') {
      this.view = new PlanPage({ planId: route.planId, client: this.client, api: this.api, banner: this.banner });
    } else if (route.name === 'invalid-plan') {
      this.view = new RouteMessage({
        id: 'invalid-plan-id',
        title: 'Not a plan id',
        text: 'A plan id is 1 to 256 ASCII letters, digits and . _ : @ - ; the address holds:',
        detail: route.raw.length > 300 ? `${route.raw.slice(0, 300)}…` : route.raw,
      });
      document.title = 'not a plan id · planstream';
    } else {
      this.view = new RouteMessage({
        id: 'unknown-route',
        title: 'No such page',
        text: 'The dashboard has the plan list and one page per plan.',
      });
    }
    this.app.replaceChildren(this.view.element);
    this.view.mount();
  }

  /** A fatal problem of the stream client (it stopped). */
  onFatal({ kind, message }) {
    this.showProblem(kind, message);
  }

  /** An HTTP error of a view; true when it was a token problem handled here. */
  onApiError(error) {
    if (error?.code === 'unauthorized' || error?.status === 401) {
      this.showProblem('unauthorized');
      return true;
    }
    if (error?.code === 'forbidden' || error?.status === 403) {
      this.showProblem('forbidden');
      return true;
    }
    return false;
  }

  showProblem(kind, message) {
    const text = (FATAL_TEXT[kind] ?? FATAL_TEXT.protocol)(this.token !== null, message);
    this.banner.show(kind in FATAL_TEXT ? kind : 'protocol', text, BANNER_OWNER);
    if (NEEDS_TOKEN.has(kind)) this.tokenForm.show();
  }

  useToken(token) {
    this.token = token;
    try {
      window.sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      // Storage refused (private mode): the token lives in this page only.
    }
    this.restart();
  }

  forgetToken() {
    this.token = null;
    try {
      window.sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // Nothing stored.
    }
    this.restart();
  }

  /** New token: new client, and the current view mounted again on it. */
  restart() {
    this.banner.clear();
    this.tokenForm.hide();
    this.view?.unmount();
    this.view = null;
    this.buildClient();
    this.route();
  }

  /** The read-only debug surface (`window.planstreamDashboard`). */
  debugSurface() {
    return Object.freeze({
      stats: () => this.client.stats,
      state: () => this.badge.current(),
    });
  }
}

function readToken() {
  try {
    const token = window.sessionStorage.getItem(TOKEN_KEY);
    return token ? token : null;
  } catch {
    return null;
  }
}

const dashboard = new Dashboard();
Object.defineProperty(window, 'planstreamDashboard', { value: dashboard.debugSurface(), enumerable: true });
dashboard.start();
