import { Inject, Injectable } from '@nestjs/common';
import { issueChallenge, nodeRandomSource, type StoredChallenge } from '@tessera/auth-domain';
import { DATA_SOURCE } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import type { DataSource, EntityManager } from 'typeorm';
import { changedRows } from '../../common/sql';

export type Ceremony = 'registration' | 'authentication';

/**
 * S15: WebAuthn challenges of 256 bits, stored server-side, expiring after 60 s, consumed by a
 * conditional UPDATE so each is used at most once.
 */
@Injectable()
export class ChallengeStore {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async issue(userId: string, ceremony: Ceremony, now: Date): Promise<{ challengeId: string; challenge: StoredChallenge }> {
    const challenge = issueChallenge(nodeRandomSource, now, userId);
    const challengeId = uuidv7(now.getTime());
    // Expired challenges of any user are swept as new ones are issued: the table stays small.
    await this.dataSource.query(`DELETE FROM webauthn_challenges WHERE expires_at < $1`, [new Date(now.getTime() - 60 * 60_000)]);
    await this.dataSource.query(
      `INSERT INTO webauthn_challenges (challenge_id, user_id, ceremony, challenge, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [challengeId, userId, ceremony, challenge.challenge, challenge.expiresAt],
    );
    return { challengeId, challenge };
  }

  /** The challenge of this user and ceremony, or undefined (another user's id finds nothing). */
  async find(challengeId: string, userId: string, ceremony: Ceremony): Promise<StoredChallenge | undefined> {
    const [row]: { challenge: string; expires_at: Date; consumed_at: Date | null }[] = await this.dataSource.query(
      `SELECT challenge, expires_at, consumed_at FROM webauthn_challenges WHERE challenge_id = $1 AND user_id = $2 AND ceremony = $3`,
      [challengeId, userId, ceremony],
    );
    return row && { challenge: row.challenge, userId, expiresAt: row.expires_at, consumedAt: row.consumed_at };
  }

  /** True when this call consumed it; false when it was already used. */
  async consume(manager: EntityManager, challengeId: string, now: Date): Promise<boolean> {
    return (await changedRows(manager, `UPDATE webauthn_challenges SET consumed_at = $2 WHERE challenge_id = $1 AND consumed_at IS NULL`, [challengeId, now])) === 1;
  }
}

/** The challenge a WebAuthn client signed, from its clientDataJSON (base64url), or '' when unreadable. */
export function presentedChallenge(clientDataJSON: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' ? parsed.challenge : '';
  } catch {
    return '';
  }
}
