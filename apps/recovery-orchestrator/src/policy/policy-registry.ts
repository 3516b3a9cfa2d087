import { readFileSync } from 'node:fs';
import { DomainError } from '@tessera/event-sourcing';
import { DEFAULT_RECOVERY_POLICY_DOCUMENT, drillPolicy, type RecoveryPolicy, validatePolicy } from '@tessera/recovery-domain';

/**
 * Every recovery policy version the service may be asked for, validated at start-up (a bad document
 * stops the service, not a recovery). A recovery keeps the version it started under, so published
 * versions stay loadable; drill variants (`<version>+drill.<factor>`) are derived on demand.
 */
export class PolicyRegistry {
  private readonly policies = new Map<string, RecoveryPolicy>();

  constructor(
    documents: readonly unknown[],
    readonly currentVersion: string,
  ) {
    for (const document of [DEFAULT_RECOVERY_POLICY_DOCUMENT, ...documents]) {
      const policy = validatePolicy(document);
      const known = this.policies.get(policy.policyVersion);
      if (known && JSON.stringify(known) !== JSON.stringify(policy)) {
        throw new Error(`recovery policy ${policy.policyVersion} is defined twice with different settings: publish a new version instead`);
      }
      this.policies.set(policy.policyVersion, policy);
    }
    if (!this.policies.has(currentVersion)) throw new Error(`RECOVERY_POLICY_VERSION ${currentVersion} is not among the loaded policies`);
  }

  /** Reads a JSON file holding one policy document or an array of them. */
  static fromFile(path: string | undefined, currentVersion: string): PolicyRegistry {
    if (!path) return new PolicyRegistry([], currentVersion);
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return new PolicyRegistry(Array.isArray(parsed) ? parsed : [parsed], currentVersion);
  }

  get current(): RecoveryPolicy {
    return this.get(this.currentVersion);
  }

  get(version: string): RecoveryPolicy {
    const known = this.policies.get(version);
    if (known) return known;
    const drill = /^(.+)\+drill\.([0-9]{1,6})$/.exec(version);
    if (drill) {
      const base = this.policies.get(drill[1]);
      if (base) {
        const derived = drillPolicy(base, Number(drill[2]));
        this.policies.set(version, derived);
        return derived;
      }
    }
    throw new DomainError('policy_unknown', `Recovery policy ${version} is not loaded`, 'conflict');
  }

  versions(): readonly string[] {
    return [...this.policies.keys()].filter((version) => !version.includes('+drill.'));
  }
}
