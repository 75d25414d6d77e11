// Names shared by the gateway's hand-off page (`/__baton/move`) and the tab client: what one tab carries from
// one generation's origin to the next. sessionStorage is per tab and per origin, so the hand-off page, served
// on the new origin, writes them there for the tab client of the page it opens next.

/** sessionStorage key: "1" when this tab follows each new generation, "0" when it stays (pinned). */
export const FOLLOW_KEY = 'baton-follow';
/** sessionStorage key: JSON {from, state} once, when this tab was sent here because its generation stopped. */
export const NOTICE_KEY = 'baton-notice';

/** What a tab sends on its `/__baton/tab` socket just before it moves: its session need not wait for it. */
export const LEAVING_MESSAGE = 'leaving';

/** The one-shot WebSocket `/__baton/tab?move=1&visible=…` answers a tab that wants to move with this. */
export interface MoveGrant {
  token: string;
  /** The generation the token moves to: the live one when it was issued. */
  live: number;
}

/** What the hand-off page tells the next page's badge: why the tab is no longer on generation `from`. */
export interface StopNotice {
  from: number;
  /** The generation's state (stopped, crashed, failed), or null when this gateway run never had it. */
  state: string | null;
}
