import { DomainError } from '@tessera/event-sourcing';
import { type ChannelAddress, type ChannelKind } from '@tessera/notifications';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ContactChannelsPort } from './ports';

/**
 * Where a user can be reached. Addresses are personal data: they stay inside the notifier (and the
 * pass-issuing activity, which hands one to auth-service); logs get counts and kinds only (S30), and
 * nothing of them enters workflow history or events (S32).
 */
export interface ContactDirectory {
  channelsOf(userId: string): Promise<readonly ChannelAddress[]>;
}

const contactsSchema = z.record(
  z.string().min(1).max(200),
  z.array(z.strictObject({ kind: z.enum(['email', 'sms', 'webhook']), address: z.string().min(1).max(256) })).max(20),
);

/**
 * The organisation's own directory, from configuration (`RECOVERY_CONTACTS_JSON`,
 * `{"<userId>":[{"kind":"email","address":"…"}]}`): addresses of record for people with no email or SMS
 * factor, and the ones HR or IT verified. Checked at start-up; an error names the setting, never a value.
 */
export class ConfiguredContactDirectory implements ContactDirectory {
  private readonly contacts: Readonly<Record<string, readonly ChannelAddress[]>>;

  constructor(json: string | undefined) {
    if (!json) {
      this.contacts = {};
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new Error('RECOVERY_CONTACTS_JSON is not valid JSON');
    }
    const checked = contactsSchema.safeParse(parsed);
    if (!checked.success) throw new Error('RECOVERY_CONTACTS_JSON must map user ids to lists of {"kind":"email"|"sms"|"webhook","address":"…"}');
    this.contacts = checked.data;
  }

  async channelsOf(userId: string): Promise<readonly ChannelAddress[]> {
    return Object.hasOwn(this.contacts, userId) ? this.contacts[userId] : [];
  }
}

/** The user's confirmed email/SMS factors, from auth-service (`ListContactChannels`). */
export class AuthServiceContactDirectory implements ContactDirectory {
  private warned = false;

  constructor(
    private readonly auth: ContactChannelsPort,
    private readonly logger: Logger,
  ) {}

  async channelsOf(userId: string): Promise<readonly ChannelAddress[]> {
    let channels: Awaited<ReturnType<ContactChannelsPort['listContactChannels']>>;
    try {
      channels = await this.auth.listContactChannels(userId);
    } catch (error) {
      // A refusal (a token without contacts:read) is a setting to fix, not a final answer: the caller
      // (an activity, the notices consumer) retries where on-call sees it, and no notice is dropped.
      if (error instanceof DomainError) throw new Error(`auth-service refused ListContactChannels (${error.code}): the orchestrator's token needs the scope contacts:read`);
      throw error;
    }
    if (channels === null) {
      if (!this.warned) this.logger.warn('auth-service does not offer ListContactChannels yet: notices use the configured directory only');
      this.warned = true;
      return [];
    }
    return channels;
  }
}

/** Webhook recipients are the receiver's own ids (the shared library's rule): the push service knows users by id. */
const PUSH_RECIPIENT = /^[\x21-\x7e]{1,256}$/;

/**
 * S22's "every registered channel": the organisation's directory first (its addresses are the ones of
 * record, which is also where a recovery pass goes first), then the user's own email/SMS factors, then
 * the organisation-wide push webhook, which fans out to the user's devices by user id. The same kind
 * and address twice is kept once (email addresses compared without case, as mail systems deliver them).
 */
export class ComposedContactDirectory implements ContactDirectory {
  constructor(
    private readonly directories: readonly ContactDirectory[],
    private readonly pushConfigured: boolean,
  ) {}

  async channelsOf(userId: string): Promise<readonly ChannelAddress[]> {
    const lists = await Promise.all(this.directories.map((directory) => directory.channelsOf(userId)));
    const push: ChannelAddress[] = this.pushConfigured && PUSH_RECIPIENT.test(userId) ? [{ kind: 'webhook', address: userId }] : [];
    const seen = new Set<string>();
    const composed: ChannelAddress[] = [];
    for (const entry of [...lists.flat(), ...push]) {
      const key = `${entry.kind}\n${normalise(entry.kind, entry.address)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      composed.push(entry);
    }
    return composed;
  }
}

function normalise(kind: ChannelKind, address: string): string {
  return kind === 'email' ? address.trim().toLowerCase() : address.trim();
}
