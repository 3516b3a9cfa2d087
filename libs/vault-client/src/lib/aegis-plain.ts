import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { describeIssues, vaultEntrySchema, type VaultEntry } from './entry';
import { VaultError } from './errors';
import { MAX_VAULT_ENTRIES } from './vault';

/**
 * The plain (unencrypted) export of the Aegis Authenticator vault, as specified in Aegis'
 * docs/vault.md (github.com/beemdevelopment/Aegis/blob/master/docs/vault.md): a container
 * `{ version: 1, header: { slots: null, params: null }, db }` where null slots/params mean "not
 * encrypted", and `db` = `{ version: 3, entries, groups }`. Aegis reads it and other authenticator
 * apps offer importers for it (Ente Auth, for one), and it is specified in public, which is why it
 * was chosen over a plain format of our own.
 *
 * Entry fields written (docs/vault.md "Entries"): type ("totp" | "hotp"), uuid (v4), name (the
 * account, our `label`), issuer, note, favorite, icon/icon_mime/icon_hash (null), groups ([]), and
 * `info` = { secret (base32, no padding), algo ("SHA1" | "SHA256" | "SHA512"), digits, period
 * (TOTP) | counter (HOTP) }.
 *
 * An export is the user's secrets in clear. It exists so a user can leave Tessera's format for any
 * app; it must only ever be written to the user's own device, never uploaded (S29, S31).
 */

export const AEGIS_CONTAINER_VERSION = 1;
export const AEGIS_DB_VERSION = 3;
const MAX_IMPORT_CHARS = 16 * 1024 * 1024;

export interface AegisExportOptions {
  /** Ids are injected (STYLE.md principle 4); Aegis expects version 4 UUIDs. */
  readonly newUuid?: () => string;
}

export function exportAegisPlain(entries: readonly VaultEntry[], options: AegisExportOptions = {}): string {
  const newUuid = options.newUuid ?? randomUUID;
  const valid = entries.map((entry, index) => {
    const result = vaultEntrySchema.safeParse(entry);
    if (!result.success) throw new VaultError('invalid_entry', `entry ${index} is invalid: ${describeIssues(result.error)}`);
    return result.data;
  });
  const document = {
    version: AEGIS_CONTAINER_VERSION,
    header: { slots: null, params: null },
    db: {
      version: AEGIS_DB_VERSION,
      entries: valid.map((entry) => ({
        type: entry.type,
        uuid: newUuid(),
        name: entry.label,
        issuer: entry.issuer,
        note: '',
        favorite: false,
        icon: null,
        icon_mime: null,
        icon_hash: null,
        info: {
          secret: entry.secret,
          algo: entry.algorithm,
          digits: entry.digits,
          ...(entry.type === 'totp' ? { period: entry.period } : { counter: entry.counter }),
        },
        groups: [],
      })),
      groups: [],
    },
  };
  return JSON.stringify(document, null, 4);
}

export interface AegisImportResult {
  readonly entries: VaultEntry[];
  /**
   * Entries that were not imported, by position in the file, with the reason. Aegis also holds
   * Steam, mOTP and Yandex tokens, which are not RFC 4226/6238 and which Tessera does not model; the
   * caller shows these to the user rather than dropping them silently.
   */
  readonly skipped: readonly { readonly index: number; readonly type: string; readonly reason: string }[];
}

// Unknown fields pass through untouched (`looseObject`): Aegis adds fields over time (note, icon_hash,
// groups arrived in later db versions) and an importer should not break on the next one.
const entrySchema = z.looseObject({
  type: z.string().max(32),
  name: z.string().max(4096).optional().default(''),
  issuer: z.string().max(4096).nullable().optional().default(''),
  info: z.looseObject({}),
});
const documentSchema = z.looseObject({
  version: z.number().int(),
  header: z.looseObject({ slots: z.unknown(), params: z.unknown() }),
  db: z.union([z.string(), z.looseObject({ version: z.number().int(), entries: z.array(z.unknown()).max(MAX_VAULT_ENTRIES) })]),
});

export function importAegisPlain(json: string): AegisImportResult {
  if (typeof json !== 'string' || json.length > MAX_IMPORT_CHARS) {
    throw new VaultError('invalid_import', `an Aegis export is text of at most ${MAX_IMPORT_CHARS} characters`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new VaultError('invalid_import', 'the file is not JSON');
  }
  const document = documentSchema.safeParse(parsed);
  if (!document.success) throw new VaultError('invalid_import', `not an Aegis vault export: ${describeIssues(document.error)}`);
  const { version, header, db } = document.data;
  if (version !== AEGIS_CONTAINER_VERSION) {
    throw new VaultError('unsupported_import', `Aegis container version ${version} is not supported`);
  }
  if (typeof db === 'string' || header.slots !== null || header.params !== null) {
    throw new VaultError('unsupported_import', 'this Aegis export is encrypted; export it from Aegis without encryption');
  }
  if (db.version < 1 || db.version > AEGIS_DB_VERSION) {
    throw new VaultError('unsupported_import', `Aegis database version ${db.version} is not supported`);
  }

  const entries: VaultEntry[] = [];
  const skipped: { index: number; type: string; reason: string }[] = [];
  db.entries.forEach((raw, index) => {
    const shape = entrySchema.safeParse(raw);
    if (!shape.success) {
      skipped.push({ index, type: 'unknown', reason: `not an Aegis entry: ${describeIssues(shape.error)}` });
      return;
    }
    const { type, name, issuer, info } = shape.data;
    if (type !== 'totp' && type !== 'hotp') {
      skipped.push({ index, type, reason: `${type} tokens are not TOTP/HOTP (RFC 6238/4226)` });
      return;
    }
    const issuerText = issuer ?? '';
    const candidate = {
      type,
      issuer: issuerText,
      // Aegis allows an empty account name; the issuer then names the account, as Aegis displays it.
      label: name.trim() === '' ? issuerText : name,
      secret: info['secret'],
      algorithm: typeof info['algo'] === 'string' ? info['algo'].toUpperCase() : info['algo'],
      digits: info['digits'],
      ...(type === 'totp' ? { period: info['period'] } : { counter: info['counter'] }),
    };
    const entry = vaultEntrySchema.safeParse(candidate);
    if (entry.success) entries.push(entry.data);
    else skipped.push({ index, type, reason: describeIssues(entry.error) });
  });
  return { entries, skipped };
}
