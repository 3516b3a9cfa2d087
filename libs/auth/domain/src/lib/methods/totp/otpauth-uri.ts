import { type TotpAlgorithm } from '@tessera/contracts';
import { Secret, TOTP } from 'otpauth';
import { DomainError } from '@tessera/event-sourcing';
import { assertTotpParameters, assertTotpSecretLength, TOTP_DEFAULTS, type TotpSeed } from './totp';

/**
 * `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=…&digits=…&period=…` — the Key URI
 * format authenticator apps read from a QR code. Built for enrolment, parsed to import a seed someone
 * already has. Importing is where malformed input arrives, so every rejection has its own code.
 */
export interface OtpauthKey extends TotpSeed {
  readonly issuer: string;
  readonly accountName: string;
}

const MAX_URI_LENGTH = 2048;
const MAX_LABEL_PART = 200;

export function buildOtpauthUri(key: OtpauthKey): string {
  assertTotpParameters(key);
  assertTotpSecretLength(key.secret);
  for (const [what, value] of [['issuer', key.issuer], ['account name', key.accountName]] as const) {
    // The colon separates issuer and account in the label; inside either it would be read back wrongly.
    if (value.length === 0 || value.length > MAX_LABEL_PART || value.includes(':')) {
      throw new DomainError('invalid_label', `the ${what} must be 1–${MAX_LABEL_PART} characters without ":"`, 'invalid');
    }
  }
  return new TOTP({
    issuer: key.issuer,
    label: key.accountName,
    secret: new Secret({ buffer: Uint8Array.from(key.secret).buffer }),
    algorithm: key.algorithm,
    digits: key.digits,
    period: key.period,
  }).toString();
}

export function parseOtpauthUri(uri: string): OtpauthKey {
  if (uri.length > MAX_URI_LENGTH) throw invalid('invalid_uri', `an otpauth URI is at most ${MAX_URI_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(uri.trim());
  } catch {
    throw invalid('invalid_uri', 'not a URI');
  }
  if (url.protocol !== 'otpauth:' || url.username !== '' || url.password !== '' || url.port !== '') {
    throw invalid('invalid_uri', 'not an otpauth:// URI');
  }
  const type = url.hostname.toLowerCase();
  if (type === 'hotp') throw invalid('unsupported_otp_type', 'counter-based (HOTP) seeds are not supported; use TOTP');
  if (type !== 'totp') throw invalid('invalid_uri', 'the URI type must be totp');

  const params = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    const key = name.toLowerCase();
    // A repeated parameter has no agreed meaning; apps differ on which one wins, so refuse it.
    if (params.has(key)) throw invalid('duplicate_parameter', `parameter "${key}" appears twice`);
    params.set(key, value);
  }

  const encodedSecret = params.get('secret');
  if (encodedSecret === undefined || encodedSecret === '') throw invalid('missing_secret', 'the URI has no secret');
  const secret = decodeBase32Secret(encodedSecret);
  assertTotpSecretLength(secret);

  const algorithm = parseAlgorithm(params.get('algorithm'));
  const digits = parseInteger(params.get('digits'), TOTP_DEFAULTS.digits, 'invalid_digits');
  const period = parseInteger(params.get('period'), TOTP_DEFAULTS.period, 'invalid_period');
  assertTotpParameters({ algorithm, digits, period });

  const { issuer, accountName } = parseLabel(url.pathname, params.get('issuer'));
  return { issuer, accountName, secret, algorithm, digits, period };
}

/**
 * RFC 4648 §6 base32 as authenticator apps write it: case-insensitive, spaces and `=` padding
 * tolerated. A length that no whole number of bytes encodes (1, 3 or 6 characters past a multiple
 * of 8) is a truncated copy, not a seed.
 */
export function decodeBase32Secret(text: string): Uint8Array {
  const cleaned = text.replace(/\s/g, '').toUpperCase().replace(/=+$/, '');
  if (cleaned.length === 0 || !/^[A-Z2-7]+$/.test(cleaned) || [1, 3, 6].includes(cleaned.length % 8)) {
    throw invalid('invalid_base32', 'the secret is not valid base32 (RFC 4648: A–Z and 2–7)');
  }
  return Uint8Array.from(Secret.fromBase32(cleaned).bytes);
}

export function encodeBase32Secret(secret: Uint8Array): string {
  return new Secret({ buffer: Uint8Array.from(secret).buffer }).base32;
}

function parseAlgorithm(value: string | undefined): TotpAlgorithm {
  if (value === undefined) return TOTP_DEFAULTS.algorithm;
  const upper = value.toUpperCase();
  if (upper === 'SHA1' || upper === 'SHA256' || upper === 'SHA512') return upper;
  throw invalid('unsupported_algorithm', 'algorithm must be SHA1, SHA256 or SHA512');
}

function parseInteger(value: string | undefined, fallback: number, code: string): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]{1,4}$/.test(value)) throw invalid(code, `"${value}" is not a whole number`);
  return Number(value);
}

/** Label: `issuer:account` or `account`; an `issuer` parameter, when present, must agree with the prefix. */
function parseLabel(pathname: string, issuerParam: string | undefined): { issuer: string; accountName: string } {
  let label: string;
  try {
    label = decodeURIComponent(pathname.replace(/^\//, ''));
  } catch {
    throw invalid('invalid_uri', 'the label is not valid percent-encoding');
  }
  const colon = label.indexOf(':');
  const prefix = colon === -1 ? undefined : label.slice(0, colon).trim();
  const accountName = (colon === -1 ? label : label.slice(colon + 1)).trim();
  if (accountName === '' || accountName.length > MAX_LABEL_PART) throw invalid('missing_label', 'the URI has no account name');
  const issuer = (issuerParam ?? prefix ?? '').trim();
  if (prefix !== undefined && prefix !== '' && issuerParam !== undefined && prefix !== issuer) {
    throw invalid('issuer_mismatch', 'the issuer parameter and the label prefix differ');
  }
  if (issuer.length > MAX_LABEL_PART) throw invalid('invalid_label', `the issuer is at most ${MAX_LABEL_PART} characters`);
  return { issuer, accountName };
}

function invalid(code: string, message: string): DomainError {
  return new DomainError(code, message, 'invalid');
}
