// The console's timings, limits and storage keys: the numbers every other module tunes itself by.

// The live feed's reconnect delays: 1 s, then doubling, never above 10 s (a restarted
// host is back within seconds; an operator should not wait longer than that).
export var BACKOFF_MS = [1000, 2000, 4000, 8000, 10000];
// The server writes a keep-alive comment every 15 s: three missed means the connection
// is dead without having been closed (a sleeping laptop, a proxy that dropped it).
export var STREAM_SILENCE_MS = 45000;
// Presence: "online" again every 30 s while the tab is visible, so the server can tell a
// closed laptop from an operator who is still there.
export var PRESENCE_EVERY_MS = 30000;
// An operator not heard from for 90 s (three heartbeats) has gone, as the server counts.
export var PRESENCE_TTL_MS = 90000;
// Messages per history request: the API's largest page.
export var PAGE_LIMIT = 200;
// At most this many pages of one conversation's history (10,000 messages): a runaway
// conversation must not freeze the tab.
export var MAX_HISTORY_PAGES = 50;
// A reply that failed on the network is sent again this many times with the same
// Idempotency-Key (the server stores it once), then left for the operator to retry.
export var SEND_RETRIES = 3;
export var ERROR_SHOWN_MS = 10000;
// Coalesces bursts of events (a resume snapshot of many conversations) into one redraw.
export var RENDER_DELAY_MS = 16;
// Coalesces the events of one turn (its message, the change of hands, the notice) into
// one reload of the handovers and decisions; a turn stores them before it publishes.
export var DETAILS_DELAY_MS = 250;
// Near the bottom means "following the conversation": new messages scroll into view.
export var STICK_TO_BOTTOM_PX = 80;

export var KEY = {
  access: "loa.console.access_token",
  refresh: "loa.console.refresh_token",
  user: "loa.console.user_id",
  tenant: "loa.console.tenant",
  lang: "loa.console.lang",
  quick: "loa.console.quick_replies",
  away: "loa.console.away"
};
