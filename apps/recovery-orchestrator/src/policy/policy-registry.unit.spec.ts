import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '@tessera/event-sourcing';
import { DEFAULT_RECOVERY_POLICY_DOCUMENT, PolicyValidationError } from '@tessera/recovery-domain';
import { PolicyRegistry } from './policy-registry';

const v2 = { ...DEFAULT_RECOVERY_POLICY_DOCUMENT, policyVersion: 'corp-2', kinds: { ...DEFAULT_RECOVERY_POLICY_DOCUMENT.kinds, assisted: { ...DEFAULT_RECOVERY_POLICY_DOCUMENT.kinds.assisted, restrictedPeriod: '14d' } } };

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policies.json');
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('recovery policies as versioned data', () => {
  it('loads every version from a file, validated, and starts new recoveries under the configured one', () => {
    const registry = PolicyRegistry.fromFile(file([v2]), 'corp-2');
    expect(registry.current.policyVersion).toBe('corp-2');
    expect(registry.current.kinds.assisted.restrictedPeriodMs).toBe(14 * 86_400_000);
    // Older versions stay loadable: a recovery keeps the version it started under.
    expect(registry.get('default-1').kinds.assisted.restrictedPeriodMs).toBe(7 * 86_400_000);
    expect(registry.versions()).toEqual(['default-1', 'corp-2']);
  });

  it('refuses to start on an invalid document, listing the problems', () => {
    const broken = { ...v2, kinds: { ...v2.kinds, assisted: { ...v2.kinds.assisted, coolingOff: { ...v2.kinds.assisted.coolingOff, base: '5m' } } } };
    expect(() => PolicyRegistry.fromFile(file(broken), 'corp-2')).toThrow(PolicyValidationError);
    expect(() => PolicyRegistry.fromFile(file(broken), 'corp-2')).toThrow(/kinds\.assisted\.coolingOff\.base/);
  });

  it('refuses a version published twice with different settings, and an unknown current version', () => {
    const changed = { ...v2, kinds: { ...v2.kinds, assisted: { ...v2.kinds.assisted, restrictedPeriod: '1d' } } };
    expect(() => new PolicyRegistry([v2, changed], 'corp-2')).toThrow(/defined twice/);
    expect(() => new PolicyRegistry([v2], 'corp-3')).toThrow(/not among the loaded policies/);
  });

  it('derives drill variants of a loaded version and refuses versions it does not know', () => {
    const registry = new PolicyRegistry([], 'default-1');
    const drill = registry.get('default-1+drill.1000');
    expect(drill.drill).toEqual({ timerFactor: 1000, basePolicyVersion: 'default-1' });
    expect(drill.kinds.assisted.coolingOff.baseMs).toBe(86_400);
    expect(() => registry.get('corp-9')).toThrow(DomainError);
    expect(() => registry.get('corp-9+drill.10')).toThrow(DomainError);
  });
});
