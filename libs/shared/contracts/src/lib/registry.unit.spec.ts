import { z } from 'zod';
import { ContractError, EventRegistry } from './registry';
import { tesseraEventRegistry } from './tessera-events';

const envelope = (type: string, version: number, data: Record<string, unknown>) => ({
  eventId: '01938a3c-5e7b-7c3d-9a1b-2c3d4e5f6a7b',
  type,
  version,
  streamId: 'stream-1',
  occurredAt: '2026-11-28T10:00:00.000Z',
  actor: { kind: 'user', id: 'user-1' },
  correlationId: 'c-1',
  causationId: null,
  data,
});

// Version 2 of a test event renamed `name` to `label`; the upcaster maps v1 onto it.
const registry = () =>
  new EventRegistry().register({ LabelChanged: z.strictObject({ userId: z.string(), label: z.string() }) }, { LabelChanged: 2 }, [
    { type: 'LabelChanged', fromVersion: 1, upcast: ({ name, ...rest }) => ({ ...rest, label: name }) },
  ]);

describe('event registry', () => {
  it('reads a current-version event as it is', () => {
    const event = registry().parse(JSON.stringify(envelope('LabelChanged', 2, { userId: 'u', label: 'phone' })));
    expect(event.data).toEqual({ userId: 'u', label: 'phone' });
  });

  it('upcasts an older version to the current shape before any consumer sees it', () => {
    const event = registry().parse(JSON.stringify(envelope('LabelChanged', 1, { userId: 'u', name: 'phone' })));
    expect(event).toMatchObject({ version: 2, data: { userId: 'u', label: 'phone' } });
  });

  it.each([
    ['not JSON', '{nope', 'malformed_json'],
    ['not an envelope', JSON.stringify({ type: 'LabelChanged' }), 'malformed_envelope'],
    ['an unknown type', JSON.stringify(envelope('SomethingHappened', 1, {})), 'unknown_event_type'],
    ['a newer version than the reader', JSON.stringify(envelope('LabelChanged', 3, { userId: 'u', label: 'x' })), 'unsupported_version'],
    ['data that breaks the contract', JSON.stringify(envelope('LabelChanged', 2, { userId: 'u', label: 7 })), 'invalid_event_data'],
    ['an extra field in data (a smuggled secret)', JSON.stringify(envelope('LabelChanged', 2, { userId: 'u', label: 'x', seed: 'JBSWY3DP' })), 'invalid_event_data'],
  ])('refuses %s with a machine-readable code', (_what, bytes, code) => {
    expect(() => registry().parse(bytes)).toThrow(expect.objectContaining({ code }));
  });

  it('never echoes event values in its error messages', () => {
    try {
      registry().parse(JSON.stringify(envelope('LabelChanged', 2, { userId: 'u', label: 'x', secretSeed: 'JBSWY3DPEHPK3PXP' })));
      throw new Error('expected a contract error');
    } catch (error) {
      expect(error).toBeInstanceOf(ContractError);
      expect((error as Error).message).not.toContain('JBSWY3DPEHPK3PXP');
    }
  });

  it('lets a consumer that keeps every event accept unknown types', () => {
    const event = registry().parse(JSON.stringify(envelope('SomethingHappened', 1, { a: 1 })), { allowUnknownTypes: true });
    expect(event.type).toBe('SomethingHappened');
  });

  it('refuses a type registered twice', () => {
    expect(() => registry().register({ LabelChanged: z.object({}) })).toThrow(/registered twice/);
  });

  it('holds every Tessera event type exactly once', () => {
    const all = tesseraEventRegistry();
    for (const type of ['TotpEnrolled', 'CredentialsFrozen', 'DeviceRegistered', 'RecoveryRequested', 'AccountFrozen']) {
      expect(all.has(type)).toBe(true);
    }
  });
});
