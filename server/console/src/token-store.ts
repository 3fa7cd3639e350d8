/**
 * The moderator token: taken from the URL fragment (`#token=…`, which browsers never send to a
 * server, so it stays out of access logs), kept in sessionStorage (this tab only), and wiped
 * from the address bar at once so it is not bookmarked, shared or left in history.
 */

const KEY = 'roomcast.console.token';

/** Reads `#token=` (and clears it from the address bar), else the stored token. */
export function takeToken(): string | undefined {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromUrl = fragment.get('token')?.trim();
  if (fragment.has('token')) {
    fragment.delete('token');
    const rest = fragment.toString();
    history.replaceState(
      history.state,
      '',
      `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`,
    );
  }
  if (fromUrl) saveToken(fromUrl);
  return fromUrl || readToken();
}

/** The stored token, if any. */
export function readToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: the form asks each time
  }
}

/** Keeps the token for this tab. */
export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // storage disabled: the token lives in memory for this page only
  }
}

/** Forgets the token. */
export function clearToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}

/** The token's `exp` in ms since the epoch, when it is a readable JWT. */
export function tokenExpiry(token: string): number | undefined {
  try {
    const part = token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const exp = (JSON.parse(atob(part)) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
