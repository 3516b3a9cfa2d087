import { Injectable } from '@nestjs/common';
import { parseAuthEvent } from '@tessera/contracts';
import { GATE, type InlineProjection, type PendingEvent, type StatementWrite, type StoredEvent } from '@tessera/event-store';
import type { EntityManager } from 'typeorm';

/** Events of a verification: they change at most the last use and the remaining codes of one credential. */
const VERIFICATION_EVENTS = new Set([
  'VerificationSucceeded',
  'VerificationFailed',
  'BackupCodeUsed',
  'BackupCodesLow',
  'ThrottleEngaged',
  'ThrottleReset',
  'PossibleClonedAuthenticatorDetected',
]);

/**
 * The `credentials` read model, updated in the transaction of the events (never behind them), so a
 * listing right after a revocation already shows it revoked (S23). Holds display data only.
 */
@Injectable()
export class CredentialCatalogProjection implements InlineProjection {
  readonly name = 'auth-credential-catalog';

  /**
   * The events of a verification as one UPDATE per credential, so that they join the append's own
   * statement (the hot path: one round trip per verification). Anything else goes through `apply`.
   */
  statements(events: readonly PendingEvent[]): readonly StatementWrite[] | null {
    const changes = new Map<string, { lastUsedAt: string | null; remaining: number | null }>();
    for (const event of events) {
      if (!event.streamId.startsWith('auth-user-')) continue;
      if (!VERIFICATION_EVENTS.has(event.type)) return null;
      const data = event.data as { credentialId?: string | null; remaining?: number };
      if (event.type !== 'VerificationSucceeded' && event.type !== 'BackupCodeUsed') continue;
      const change = changes.get(data.credentialId!) ?? { lastUsedAt: null, remaining: null };
      if (event.type === 'VerificationSucceeded') change.lastUsedAt = event.occurredAt;
      else change.remaining = data.remaining!;
      changes.set(data.credentialId!, change);
    }
    return [...changes].map(([credentialId, change]) => ({
      sql: `UPDATE credentials SET last_used_at = coalesce($2::timestamptz, last_used_at), remaining_codes = coalesce($3::int, remaining_codes)
             WHERE credential_id = $1 AND ${GATE}`,
      params: [credentialId, change.lastUsedAt, change.remaining],
    }));
  }

  async apply(events: readonly StoredEvent[], manager: EntityManager): Promise<void> {
    for (const stored of events) {
      if (!stored.streamId.startsWith('auth-user-')) continue;
      const event = parseAuthEvent(stored.type, stored.data);
      const at = stored.occurredAt;
      const insert = (credentialId: string, kind: string, name: string | null, status: string, details: object, remaining: number | null) =>
        manager.query(
          `INSERT INTO credentials (credential_id, user_id, kind, name, status, details, remaining_codes, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [credentialId, event.data.userId, kind, name, status, JSON.stringify(details), remaining, at],
        );
      switch (event.type) {
        case 'TotpEnrolled': {
          const { credentialId, name, algorithm, digits, period, source } = event.data;
          await insert(credentialId, 'totp', name, 'pending', { algorithm, digits, period, source }, null);
          break;
        }
        case 'TotpConfirmed':
          await manager.query(`UPDATE credentials SET status = 'active' WHERE credential_id = $1 AND status = 'pending'`, [event.data.credentialId]);
          break;
        case 'WebAuthnCredentialRegistered': {
          const { credentialId, name, aaguid, deviceBound } = event.data;
          await insert(credentialId, 'webauthn', name, 'active', { aaguid, deviceBound }, null);
          break;
        }
        case 'BackupCodesGenerated': {
          const { credentialId, count, replacedCredentialId } = event.data;
          if (replacedCredentialId !== null) await this.revoke(manager, replacedCredentialId, at);
          await insert(credentialId, 'backup_codes', 'Backup codes', 'active', {}, count);
          break;
        }
        case 'BackupCodeUsed':
          await manager.query(`UPDATE credentials SET remaining_codes = $2 WHERE credential_id = $1`, [event.data.credentialId, event.data.remaining]);
          break;
        case 'EmailOtpChannelAdded':
        case 'SmsOtpChannelAdded': {
          const kind = event.type === 'EmailOtpChannelAdded' ? 'email_otp' : 'sms_otp';
          await insert(event.data.credentialId, kind, event.data.destinationHint, 'active', { destinationHint: event.data.destinationHint }, null);
          break;
        }
        case 'CredentialRevoked':
          await this.revoke(manager, event.data.credentialId, at);
          break;
        case 'VerificationSucceeded':
          await manager.query(`UPDATE credentials SET last_used_at = $2 WHERE credential_id = $1`, [event.data.credentialId, at]);
          break;
        default:
          break;
      }
    }
  }

  private async revoke(manager: EntityManager, credentialId: string, at: string): Promise<void> {
    await manager.query(`UPDATE credentials SET status = 'revoked', revoked_at = $2 WHERE credential_id = $1 AND status <> 'revoked'`, [credentialId, at]);
  }
}
