import { scryptBackupCodeKdf, type BackupCodeKdf } from '@tessera/auth-domain';
import type { Metrics } from '@tessera/platform';
import { Counter } from 'prom-client';

/**
 * auth-service's own metrics, on the platform's registry (/metrics). The two backup-code counters make
 * S11's "one KDF per attempt" observable from outside, e.g. by the verify benchmark.
 */
export class AuthMetrics {
  readonly verifications: Counter<'method' | 'outcome'>;
  readonly backupCodeAttempts: Counter;
  readonly backupCodeKdfRuns: Counter;

  constructor(metrics: Metrics) {
    this.verifications = new Counter({
      name: 'auth_verifications_total',
      help: 'Verification attempts by method and outcome',
      labelNames: ['method', 'outcome'],
      registers: [metrics.registry],
    });
    this.backupCodeAttempts = new Counter({
      name: 'auth_backup_code_attempts_total',
      help: 'Well-formed backup code attempts checked',
      registers: [metrics.registry],
    });
    this.backupCodeKdfRuns = new Counter({
      name: 'auth_backup_code_kdf_total',
      help: 'Key derivations run while checking backup codes (S11: one per attempt)',
      registers: [metrics.registry],
    });
  }

  /** The backup-code KDF of verification, counting its runs. */
  countingKdf(inner: BackupCodeKdf = scryptBackupCodeKdf): BackupCodeKdf {
    return (input, salt, params) => {
      this.backupCodeKdfRuns.inc();
      return inner(input, salt, params);
    };
  }
}
