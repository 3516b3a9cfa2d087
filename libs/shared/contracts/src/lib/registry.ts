import type { z } from 'zod';
import { type EventEnvelope, envelopeSchema } from './envelope';

/**
 * Event contracts and their evolution (docs/adr/0005-event-contracts.md):
 * - a change to an event's `data` that only adds optional fields keeps its version;
 * - anything else (renaming, removing, retyping, making a field required) bumps the version and
 *   ships an upcaster from the previous version, so stored and in-flight events of every older
 *   version are read as the current one. Consumers only ever see the current shape.
 */
export interface Upcaster {
  readonly type: string;
  readonly fromVersion: number;
  upcast(data: Record<string, unknown>): Record<string, unknown>;
}

export type ContractErrorCode = 'malformed_json' | 'malformed_envelope' | 'unknown_event_type' | 'unsupported_version' | 'invalid_event_data';

/** An event that does not meet its contract. The message names what is wrong, never the values. */
export class ContractError extends Error {
  constructor(
    readonly code: ContractErrorCode,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(details.length > 0 ? `${message}: ${details.join('; ')}` : message);
    this.name = 'ContractError';
  }
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues.slice(0, 10).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

export class EventRegistry {
  private readonly schemas = new Map<string, z.ZodType>();
  private readonly versions = new Map<string, number>();
  private readonly upcasters = new Map<string, Upcaster>();

  /** Registers the current schema of each type's `data` (version 1 unless `versions` says otherwise). */
  register(schemas: Readonly<Record<string, z.ZodType>>, versions: Readonly<Record<string, number>> = {}, upcasters: readonly Upcaster[] = []): this {
    for (const [type, schema] of Object.entries(schemas)) {
      if (this.schemas.has(type)) throw new Error(`event type ${type} is registered twice`);
      this.schemas.set(type, schema);
      this.versions.set(type, versions[type] ?? 1);
    }
    for (const upcaster of upcasters) this.upcasters.set(`${upcaster.type}@${upcaster.fromVersion}`, upcaster);
    return this;
  }

  has(type: string): boolean {
    return this.schemas.has(type);
  }

  currentVersion(type: string): number {
    const version = this.versions.get(type);
    if (version === undefined) throw new ContractError('unknown_event_type', `no contract for event type ${type}`);
    return version;
  }

  /** Validates `data` against the current schema of `type` (used by producers before storing). */
  validateData<T = Record<string, unknown>>(type: string, data: unknown): T {
    const schema = this.schemas.get(type);
    if (!schema) throw new ContractError('unknown_event_type', `no contract for event type ${type}`);
    const result = schema.safeParse(data);
    if (!result.success) throw new ContractError('invalid_event_data', `${type} data does not match its contract`, describeIssues(result.error));
    return result.data as T;
  }

  /**
   * Reads a message at a consumer boundary: parses the bytes, checks the envelope, upcasts `data` to
   * the current version and validates it. Types this registry does not know are refused unless
   * `allowUnknownTypes` (a consumer such as the audit log that keeps every event it is given).
   */
  parse(bytes: Buffer | string, options: { allowUnknownTypes?: boolean } = {}): EventEnvelope {
    let raw: unknown;
    try {
      raw = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
    } catch {
      throw new ContractError('malformed_json', 'message is not valid JSON');
    }
    const envelope = envelopeSchema.safeParse(raw);
    if (!envelope.success) throw new ContractError('malformed_envelope', 'message is not an event envelope', describeIssues(envelope.error));
    const event = envelope.data as EventEnvelope;
    if (!this.schemas.has(event.type)) {
      if (options.allowUnknownTypes) return event;
      throw new ContractError('unknown_event_type', `no contract for event type ${event.type}`);
    }
    return this.upcast(event);
  }

  /** Brings an envelope of an older version up to the current one and validates the result. */
  upcast(event: EventEnvelope): EventEnvelope {
    const current = this.currentVersion(event.type);
    if (event.version > current) {
      throw new ContractError('unsupported_version', `${event.type} v${event.version} is newer than this reader (v${current})`);
    }
    let data = event.data;
    for (let version = event.version; version < current; version++) {
      const upcaster = this.upcasters.get(`${event.type}@${version}`);
      if (!upcaster) throw new ContractError('unsupported_version', `no upcaster for ${event.type} v${version}`);
      data = upcaster.upcast(data);
    }
    return { ...event, version: current, data: this.validateData(event.type, data) };
  }
}
