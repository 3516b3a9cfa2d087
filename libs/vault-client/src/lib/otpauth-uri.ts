import { HOTP, Secret, TOTP, URI } from 'otpauth';
import { describeIssues, parseVaultEntry, vaultEntrySchema, type VaultEntry } from './entry';
import { VaultError } from './errors';

/**
 * `otpauth://` Key URIs, the format QR codes and most authenticator apps use for one account
 * (github.com/google/google-authenticator/wiki/Key-Uri-Format). Parsing is `otpauth`'s `URI.parse`;
 * this module adds the checks it leaves out and turns its exceptions into `invalid_otpauth_uri`.
 * Errors never quote the URI: it carries the secret.
 */

/** Real Key URIs are a few hundred characters; the cap bounds regex work on hostile input. */
const MAX_URI_LENGTH = 4096;

export function fromOtpauthUri(uri: string): VaultEntry {
  if (typeof uri !== 'string' || uri.length > MAX_URI_LENGTH) {
    throw new VaultError('invalid_otpauth_uri', `an otpauth URI is a string of at most ${MAX_URI_LENGTH} characters`);
  }
  let otp: HOTP | TOTP;
  try {
    otp = URI.parse(uri);
  } catch (error) {
    // otpauth's messages are fixed strings ("Missing or invalid 'secret' parameter"), never input.
    const reason = error instanceof URIError && error.message !== 'Invalid URI format' ? 'bad percent-encoding' : (error as Error).message;
    throw new VaultError('invalid_otpauth_uri', `not a valid otpauth URI: ${reason}`);
  }
  // URI.parse decodes the secret leniently (dangling bits are dropped), so the raw parameter goes
  // through the strict check instead of `otp.secret.base32`.
  const rawSecret = queryParameter(uri, 'secret');
  const candidate = {
    type: otp instanceof HOTP ? 'hotp' : 'totp',
    issuer: otp.issuer,
    label: otp.label,
    secret: rawSecret,
    algorithm: otp.algorithm.toUpperCase(),
    digits: otp.digits,
    ...(otp instanceof HOTP ? { counter: otp.counter } : { period: otp.period }),
  };
  const result = vaultEntrySchema.safeParse(candidate);
  if (!result.success) throw new VaultError('invalid_otpauth_uri', `unsupported otpauth URI: ${describeIssues(result.error)}`);
  return result.data;
}

/**
 * The Key URI format forbids a colon inside the issuer or the account name, because the label's
 * first colon separates the two. A label colon survives only behind an issuer prefix (the parser
 * splits at the first one); anything else would come back as a different account, so it is refused.
 */
export function toOtpauthUri(entry: VaultEntry): string {
  const valid = parseVaultEntry(entry);
  if (valid.issuer.includes(':')) {
    throw new VaultError('invalid_entry', 'an issuer containing ":" cannot be written as an otpauth URI');
  }
  if (valid.issuer === '' && valid.label.includes(':')) {
    throw new VaultError('invalid_entry', 'a label containing ":" needs an issuer to be written as an otpauth URI');
  }
  const common = {
    issuer: valid.issuer,
    label: valid.label,
    secret: Secret.fromBase32(valid.secret),
    algorithm: valid.algorithm,
    digits: valid.digits,
  };
  const otp = valid.type === 'totp' ? new TOTP({ ...common, period: valid.period }) : new HOTP({ ...common, counter: valid.counter });
  return URI.stringify(otp);
}

/**
 * Reads a parameter the way `URI.parse` does, so both see the same value: the query is everything
 * after the last "?" (its pattern allows none inside the query), keys are case-insensitive and the
 * last occurrence wins.
 */
function queryParameter(uri: string, name: string): string {
  let value = '';
  for (const pair of uri.slice(uri.lastIndexOf('?') + 1).split('&')) {
    const [key, raw = ''] = pair.split(/=(.*)/s, 2);
    if (decodeURIComponent(key).toLowerCase() === name) value = decodeURIComponent(raw);
  }
  return value;
}
