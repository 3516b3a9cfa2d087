export type AuditErrorCode = 'invalid_source' | 'invalid_recorded_at' | 'data_key_required' | 'chain_head_invalid' | 'invalid_checkpoint_range' | 'invalid_policy';

/**
 * A programming or configuration error in the audit domain: the caller passed something the
 * functions refuse to turn into a record. Messages name what was wrong, never a value that could
 * be personal data or key material (S30).
 */
export class AuditError extends Error {
  constructor(
    readonly code: AuditErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuditError';
  }
}
