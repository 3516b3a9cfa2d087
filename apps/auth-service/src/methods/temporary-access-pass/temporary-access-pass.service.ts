import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  assessAccountAttempt,
  generateNumericCode,
  isNumericCode,
  nodeRandomSource,
  normalizeNumericCode,
  type RestrictedFactorPolicy,
} from '@tessera/auth-domain';
import type { Actor } from '@tessera/contracts';
import { constantTimeEqual } from '@tessera/crypto';
import { DomainError } from '@tessera/event-sourcing';
import { AppendGuardFailed, GATE } from '@tessera/event-store';
import { ApiError, DATA_SOURCE } from '@tessera/platform';
import { uuidv7 } from '@tessera/util';
import type { DataSource } from 'typeorm';
import { changedRows } from '../../common/sql';
import { AUTH_KEYS } from '../../common/tokens';
import type { AuthKeys } from '../../config/auth-keys';
import { AccountService } from '../../credentials/account.service';
import { AddressThrottleStore } from '../../verification/address-throttle.store';
import { CodeDelivery, type DeliveryChannel } from '../out-of-band/code-delivery';

/**
 * DESIGN.md: a pass lives 1 h at most and works once; over SMS at most 10 min (63B-4 §3.1.3). Ten
 * digits (~33 bits) suffice because every failed guess counts toward the account's 100-failure cap
 * (S8), the pass expires, and there is one per completed recovery.
 */
const PASS_DIGITS = 10;
const MAX_LIFETIME_S: Record<DeliveryChannel, number> = { email: 3600, sms: 600 };

interface PassRow {
  pass_id: string;
  recovery_id: string;
  salt: Buffer;
  mac: Buffer;
  expires_at: Date;
}

/**
 * Temporary Access Passes (S25): issued by the recovery-orchestrator for a completed recovery, sent
 * straight to the user (only the id comes back, S32), stored as an HMAC, single use, good only for
 * enrolling (the step-up assertion it yields carries the recovery, and the decider accepts it only
 * for binding). Issuing one resets the S8 lock: a completed recovery is one of its three exits.
 * Redeeming one is recorded on the user's stream (`TemporaryAccessPassConsumed`, through the outbox):
 * the recovery-orchestrator moves the recovery on from it, and a factor bound with the pass names it.
 */
@Injectable()
export class TemporaryAccessPassService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(AUTH_KEYS) private readonly keys: AuthKeys,
    @Inject(CodeDelivery) private readonly delivery: CodeDelivery,
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(AddressThrottleStore) private readonly addresses: AddressThrottleStore,
  ) {}

  async issue(
    request: { userId: string; recoveryId: string; idempotencyKey: string; lifetimeSeconds: number; channel: DeliveryChannel; address: string },
    actor: Actor,
    now: Date,
  ): Promise<{ passId: string; expiresAt: string }> {
    const [existing]: { pass_id: string; expires_at: Date }[] = await this.dataSource.query(
      `SELECT pass_id, expires_at FROM temporary_access_passes WHERE user_id = $1 AND idempotency_key = $2`,
      [request.userId, request.idempotencyKey],
    );
    if (existing) return { passId: existing.pass_id, expiresAt: existing.expires_at.toISOString() };
    const lifetime = request.lifetimeSeconds || MAX_LIFETIME_S[request.channel];
    if (!Number.isInteger(lifetime) || lifetime < 60 || lifetime > MAX_LIFETIME_S[request.channel]) {
      throw new DomainError('invalid_lifetime', `a pass over ${request.channel} lives 60–${MAX_LIFETIME_S[request.channel]} seconds`, 'invalid');
    }
    const pass = generateNumericCode(nodeRandomSource, PASS_DIGITS);
    const salt = nodeRandomSource(16);
    const passId = uuidv7(now.getTime());
    const expiresAt = new Date(now.getTime() + lifetime * 1000);
    await this.accounts.execute({ type: 'ResetThrottle', userId: request.userId, now, reason: 'recovery_completed', referenceId: request.recoveryId }, actor, async (manager) => {
      // One live pass per user: a new one voids the others.
      await manager.query(`UPDATE temporary_access_passes SET revoked_at = $2 WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, [request.userId, now]);
      await manager.query(
        `INSERT INTO temporary_access_passes (pass_id, user_id, recovery_id, idempotency_key, salt, mac, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [passId, request.userId, request.recoveryId, request.idempotencyKey, Buffer.from(salt), this.mac(pass, salt), now, expiresAt],
      );
    });
    try {
      await this.delivery.sendCode(request.channel, request.address, pass, Math.ceil(lifetime / 60), 'recovery', `auth-tap-${passId}`);
    } catch (error) {
      // Nobody holds a pass that was not delivered: drop it, so that the orchestrator's retry (same
      // idempotency key) issues and sends a new one instead of answering with this one.
      await this.dataSource.query(`DELETE FROM temporary_access_passes WHERE pass_id = $1 AND used_at IS NULL`, [passId]);
      throw error;
    }
    return { passId, expiresAt: expiresAt.toISOString() };
  }

  async revoke(userId: string, passId: string, now: Date): Promise<{ alreadyRevoked: boolean }> {
    const changed = await changedRows(this.dataSource.manager, `UPDATE temporary_access_passes SET revoked_at = $3 WHERE pass_id = $1 AND user_id = $2 AND revoked_at IS NULL AND used_at IS NULL`, [
      passId,
      userId,
      now,
    ]);
    return { alreadyRevoked: changed === 0 };
  }

  /** Checks and consumes a pass; a failure counts toward the account's cap (S8) like any guess. */
  async redeem(userId: string, input: string, clientAddress: string, actor: Actor, now: Date, policy: RestrictedFactorPolicy): Promise<{ recoveryId: string; expiresAt: Date }> {
    const account = await this.accounts.load(userId);
    const gate = assessAccountAttempt(account.throttle, 'tap', now);
    if (!gate.allowed) throw new ApiError(429, gate.reason === 'locked' ? 'account_locked' : 'throttled', 'Too many failed attempts; retry later.');
    const code = normalizeNumericCode(input);
    const rows: PassRow[] = isNumericCode(code, PASS_DIGITS)
      ? await this.dataSource.query(
          `SELECT pass_id, recovery_id, salt, mac, expires_at FROM temporary_access_passes WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL`,
          [userId],
        )
      : [];
    const match = rows.find((row) => constantTimeEqual(this.mac(code, row.salt), row.mac));
    const outcome = !isNumericCode(code, PASS_DIGITS) ? 'malformed' : match === undefined ? 'no_match' : match.expires_at.getTime() <= now.getTime() ? 'expired' : 'match';
    if (outcome === 'match' && (await this.consume(userId, match!, actor, now))) return { recoveryId: match!.recovery_id, expiresAt: match!.expires_at };
    const reason = outcome === 'match' ? 'already_used' : outcome;
    await this.accounts.execute(
      { type: 'RecordVerification', userId, now, credentialId: null, evidence: { kind: 'tap', outcome: reason }, policy },
      actor,
      { writes: () => this.addresses.failureWrites(clientAddress, now) },
    );
    throw new ApiError(422, 'verification_failed', `The temporary access pass was not accepted (${reason}).`);
  }

  /**
   * Spends the pass and records it in one statement: the row's conditional update is the append's guard,
   * so the pass is used if and only if `TemporaryAccessPassConsumed` is stored (and then published, R1).
   * False when a concurrent redemption spent it first (S25: twenty at once, one success).
   */
  private async consume(userId: string, row: PassRow, actor: Actor, now: Date): Promise<boolean> {
    try {
      await this.accounts.execute({ type: 'ConsumeTemporaryAccessPass', userId, now, passId: row.pass_id, recoveryId: row.recovery_id }, actor, {
        writes: () => [
          {
            sql: `UPDATE temporary_access_passes SET used_at = $2 WHERE pass_id = $1 AND used_at IS NULL AND revoked_at IS NULL AND ${GATE}`,
            params: [row.pass_id, now],
            guard: true,
          },
        ],
      });
      return true;
    } catch (error) {
      if (error instanceof AppendGuardFailed || (error instanceof DomainError && error.code === 'tap_already_used')) return false;
      throw error;
    }
  }

  private mac(pass: string, salt: Uint8Array): Buffer {
    return createHmac('sha256', this.keys.otpPepper).update(salt).update(`tap:${pass}`).digest();
  }
}
