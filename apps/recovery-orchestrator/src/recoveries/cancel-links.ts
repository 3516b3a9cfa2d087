import { randomBytes } from 'node:crypto';
import { DomainError } from '@tessera/event-sourcing';
import { createSignedLink, generateLinkNonce, type LinkKeyRing, SignedLinkError, verifySignedLink, WASNT_ME_LINK_PURPOSE } from '@tessera/notifications';
import type { DataSource } from 'typeorm';

/**
 * The signed single-use "this wasn't me" links of recovery notices (shared signed-link format). The
 * token is a secret until used: it is minted inside the notifier activity and verified here, and only
 * its verified claims reach the workflow (S32).
 */
export class CancelLinks {
  constructor(
    private readonly keyRing: LinkKeyRing,
    private readonly baseUrl: string,
    private readonly lifetimeMs: number,
    private readonly dataSource: DataSource,
  ) {}

  /** Keys from configuration (`kid:base64` pairs, comma-separated, the first signs), or a random one outside production. */
  static keyRingFrom(setting: string | undefined, environment: string | undefined): LinkKeyRing {
    if (!setting) {
      if (environment === 'production') throw new Error('CANCEL_LINK_KEYS is required in production');
      return { currentKid: 'ephemeral', keys: { ephemeral: new Uint8Array(randomBytes(32)) } };
    }
    const entries = setting.split(',').map((pair) => {
      const [kid, key] = pair.split(':');
      return [kid, new Uint8Array(Buffer.from(key ?? '', 'base64'))] as const;
    });
    return { currentKid: entries[0][0], keys: Object.fromEntries(entries) };
  }

  async mint(recoveryId: string, now = new Date()): Promise<string> {
    return createSignedLink(
      { baseUrl: this.baseUrl, purpose: WASNT_ME_LINK_PURPOSE, subjectId: recoveryId, expiresAt: new Date(now.getTime() + this.lifetimeMs), nonce: generateLinkNonce() },
      this.keyRing,
    ).url;
  }

  /**
   * Verifies the token for this recovery and spends it (the nonce is inserted once; a second use is
   * refused). Every way a token can be bad gets the same answer, so the answer teaches a forger nothing.
   */
  async spend(token: string, recoveryId: string, now = new Date()): Promise<{ recoveryId: string; expiresAt: Date }> {
    let claims;
    try {
      claims = verifySignedLink(token, this.keyRing, now, WASNT_ME_LINK_PURPOSE);
    } catch (error) {
      if (error instanceof SignedLinkError) throw new DomainError('cancel_link_invalid', 'This link is not valid (expired, altered or not for this action)', 'forbidden');
      throw error;
    }
    if (claims.subjectId !== recoveryId) throw new DomainError('cancel_link_invalid', 'This link is not valid (expired, altered or not for this action)', 'forbidden');
    const inserted: unknown[] = await this.dataSource.query(
      `INSERT INTO used_cancel_links (nonce, recovery_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (nonce) DO NOTHING RETURNING nonce`,
      [claims.nonce, recoveryId, claims.expiresAt.toISOString()],
    );
    if (inserted.length === 0) throw new DomainError('cancel_link_used', 'This link has already been used', 'forbidden');
    return { recoveryId, expiresAt: claims.expiresAt };
  }
}
