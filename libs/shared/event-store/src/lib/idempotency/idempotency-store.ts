import { createHash } from 'node:crypto';
import { ApiError } from '@tessera/platform';
import type { DataSource } from 'typeorm';

export interface IdempotentResult<T> {
  readonly status: number;
  readonly body: T;
  /** The response carries a secret (e.g. backup codes shown once): never stored, never replayed. */
  readonly secret?: boolean;
}

export type Replay<T> = IdempotentResult<T> & { readonly replayed: boolean };

const KEY_PATTERN = /^[A-Za-z0-9._:-]{8,200}$/;

/** SHA-256 of what identifies a request, so a key reused for a different request is refused. */
export function requestFingerprint(...parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * Runs a mutating operation at most once per (caller, key) (DESIGN.md "every mutating call takes an
 * idempotency key"). The first call claims the key and does the work; a retry with the same request
 * gets the first answer back; a retry while the first still runs gets 409 `idempotency_key_in_use`;
 * the same key with a different request gets 422 `idempotency_key_reused`. A failed attempt frees the
 * key so the caller can retry. Keys are kept 24 hours.
 */
export class IdempotencyStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly retentionHours = 24,
  ) {}

  static assertKey(key: string): void {
    if (!KEY_PATTERN.test(key)) {
      throw new ApiError(400, 'invalid_idempotency_key', 'An idempotency key is 8-200 characters of letters, digits, ".", "_", ":" or "-".');
    }
  }

  async run<T>(caller: string, key: string, fingerprint: string, work: () => Promise<IdempotentResult<T>>): Promise<Replay<T>> {
    IdempotencyStore.assertKey(key);
    const claimed = await this.dataSource.query(
      `INSERT INTO idempotency_keys (caller, key, fingerprint, state) VALUES ($1, $2, $3, 'in_progress')
       ON CONFLICT (caller, key) DO NOTHING RETURNING key`,
      [caller, key, fingerprint],
    );
    if (claimed.length === 0) return this.replay<T>(caller, key, fingerprint);

    let result: IdempotentResult<T>;
    try {
      result = await work();
    } catch (error) {
      await this.dataSource.query(`DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2 AND state = 'in_progress'`, [caller, key]);
      throw error;
    }
    await this.dataSource.query(
      `UPDATE idempotency_keys SET state = 'completed', response_status = $3, response_body = $4::jsonb, secret_withheld = $5, completed_at = now()
        WHERE caller = $1 AND key = $2`,
      [caller, key, result.status, result.secret ? null : JSON.stringify(result.body ?? null), result.secret === true],
    );
    if (Math.random() < 0.01) {
      await this.dataSource.query(`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`, [this.retentionHours]);
    }
    return { ...result, replayed: false };
  }

  private async replay<T>(caller: string, key: string, fingerprint: string): Promise<Replay<T>> {
    const rows: { fingerprint: string; state: string; response_status: number; response_body: T; secret_withheld: boolean }[] = await this.dataSource.query(
      `SELECT fingerprint, state, response_status, response_body, secret_withheld FROM idempotency_keys WHERE caller = $1 AND key = $2`,
      [caller, key],
    );
    const row = rows[0];
    if (!row) throw new ApiError(409, 'idempotency_key_in_use', 'The request with this idempotency key just failed; retry it.');
    if (row.fingerprint !== fingerprint) {
      throw new ApiError(422, 'idempotency_key_reused', 'This idempotency key was used for a different request.');
    }
    if (row.state !== 'completed') throw new ApiError(409, 'idempotency_key_in_use', 'A request with this idempotency key is still in progress.');
    if (row.secret_withheld) {
      throw new ApiError(409, 'already_done_secret_withheld', 'This request was already done; its answer held a secret that is shown only once.');
    }
    return { status: row.response_status, body: row.response_body, replayed: true };
  }
}
