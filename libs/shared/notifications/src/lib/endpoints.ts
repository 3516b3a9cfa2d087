import { isIP } from 'node:net';

/**
 * Whether `host` names this machine. Plaintext SMTP and plain-http URLs are accepted only for
 * such hosts: over any real network a code, a signed link or a webhook secret would travel in clear.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/**
 * Parses an absolute URL that Tessera sends people or requests to: `https:`, or `http:` on a
 * loopback host (development); no user name or password (they would end up in logs and history).
 * Returns null when the URL is not acceptable; the caller words the error.
 */
export function parseSafeUrl(raw: string): URL | null {
  if (typeof raw !== 'string' || raw.length > 2048) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.username !== '' || url.password !== '') return null;
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  return null;
}
