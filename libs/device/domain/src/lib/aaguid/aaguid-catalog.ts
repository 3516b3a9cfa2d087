import { type DeviceKind } from '@tessera/contracts';
import shipped from './known-aaguids.json';

/**
 * AAGUID → authenticator model, so a user sees "YubiKey 5 Series" instead of a UUID (S20: the AAGUID
 * is kept for display). Never a trust decision: with attestation `none` (the default, S20) the AAGUID
 * is whatever the client says it is.
 */

export const AUTHENTICATOR_CATEGORIES = ['security-key', 'platform', 'password-manager'] as const;
export type AuthenticatorCategory = (typeof AUTHENTICATOR_CATEGORIES)[number];

export interface AuthenticatorModel {
  readonly name: string;
  readonly category: AuthenticatorCategory;
}

export interface AaguidCatalog {
  /** The model, or null when the AAGUID is unknown, malformed or all zero. */
  lookup(aaguid: string | null | undefined): AuthenticatorModel | null;
  /** The device kind a model suggests when registering, or null when unknown. */
  suggestKind(aaguid: string | null | undefined): DeviceKind | null;
}

const AAGUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * Authenticators that do not identify their model send sixteen zero bytes (W3C WebAuthn §6.5.1;
 * also what many platforms send under attestation `none`), so zero means "unknown", not a model.
 */
const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';

export const KNOWN_AAGUIDS: Readonly<Record<string, AuthenticatorModel>> = shipped.authenticators as Record<string, AuthenticatorModel>;

/**
 * A catalog of the shipped table merged with deployment configuration (e.g. an organisation's own
 * security keys, or a fresher copy of the FIDO Metadata Service). Configuration wins on conflicts.
 * Invalid configuration fails at start-up, not at lookup.
 */
export function createAaguidCatalog(extra: Readonly<Record<string, AuthenticatorModel>> = {}): AaguidCatalog {
  const table = new Map<string, AuthenticatorModel>();
  for (const [aaguid, model] of [...Object.entries(KNOWN_AAGUIDS), ...Object.entries(extra)]) {
    const key = aaguid.toLowerCase();
    if (!AAGUID_PATTERN.test(key) || key === ZERO_AAGUID) throw new Error(`AAGUID catalog: "${aaguid}" is not an AAGUID`);
    if (typeof model?.name !== 'string' || model.name.trim() === '' || model.name.length > 64) {
      throw new Error(`AAGUID catalog: ${key} needs a name of 1–64 characters`);
    }
    if (!(AUTHENTICATOR_CATEGORIES as readonly string[]).includes(model.category)) {
      throw new Error(`AAGUID catalog: ${key} has an unknown category "${String(model.category)}"`);
    }
    table.set(key, { name: model.name, category: model.category });
  }

  const lookup = (aaguid: string | null | undefined): AuthenticatorModel | null => {
    if (typeof aaguid !== 'string') return null;
    return table.get(aaguid.toLowerCase()) ?? null;
  };
  return {
    lookup,
    suggestKind(aaguid) {
      const model = lookup(aaguid);
      if (!model) return null;
      return model.category === 'security-key' ? 'security-key' : 'platform-passkey';
    },
  };
}

/** The shipped table alone. */
export const defaultAaguidCatalog: AaguidCatalog = createAaguidCatalog();
