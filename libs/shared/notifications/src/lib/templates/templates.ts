import { AUTH_FACTOR_KINDS, type AuthFactorKind } from '@tessera/contracts';
import { z } from 'zod';
import { parseSafeUrl } from '../endpoints';
import { type Block, code, link } from './blocks';

/**
 * The registry of notification templates: one entry per thing Tessera tells a person (or on-call).
 * Each entry declares its variables as a strict schema (unknown keys are refused, so nothing rides
 * along unseen), whether a rendered message carries a secret, and its wording for email (subject +
 * blocks → text and HTML) and for SMS (one short text). Webhook receivers get the email subject and
 * text.
 *
 * SMS texts keep to characters of the GSM 03.38 default alphabet: one character outside it makes the
 * whole message UCS-2, which cuts a segment from 160 to 70 characters. User-chosen names never go
 * into an SMS for the same reason.
 */

const MINUTE = 60;

/** An instant, as a Date or as the ISO 8601 string it becomes in a Temporal payload. */
const instant = z.union([z.date(), z.iso.datetime({ offset: true })]).transform((value) => new Date(value));

/**
 * Names users choose are shown on every channel (S22): 1–64 characters, no control characters and
 * no bidirectional overrides, which could make one name display as another (Unicode TR #36 §2.1,
 * CVE-2021-42574). The same rule as device names in the device registry.
 */
const displayName = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine((name) => !/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(name));

/** Identifiers shown to on-call: recovery ids, incident ids, user ids. */
const identifier = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/);

/** The "this wasn't me" link: https (or loopback http in development), no credentials. */
const linkUrl = z.string().refine((value) => parseSafeUrl(value) !== null);

/** A DNS name for the origin-bound code line; lower-case letters, digits, hyphens and dots. */
const domainName = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/);

const factorChange = z.strictObject({
  factorKind: z.enum(AUTH_FACTOR_KINDS),
  factorName: displayName.optional(),
  occurredAt: instant,
});

/** Each with its article ("an authenticator app"), which the label decides. */
const FACTOR_LABELS: Readonly<Record<AuthFactorKind, string>> = {
  totp: 'an authenticator app',
  webauthn: 'a security key or passkey',
  backup_codes: 'a set of backup codes',
  email_otp: 'an email address for sign-in codes',
  sms_otp: 'a phone number for text message codes',
};

/** `2026-03-01 09:00 UTC`: one unambiguous form on every channel, whatever the reader's zone. */
export function formatInstant(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const minutes = (count: number) => `${count} minute${count === 1 ? '' : 's'}`;

const CONTACT = 'contact your security team now';

const WASNT_ME = "This wasn't me: cancel the recovery";

/** Why a device or factor went, as a clause after its date; a user's own removal needs none. */
const REMOVAL_CAUSE: Readonly<Record<'user_removed' | 'recovery' | 'incident', string>> = {
  user_removed: '',
  recovery: ' by a recovery of your account',
  incident: ' by your security team',
};

export interface TemplateContent {
  readonly subject: string;
  readonly blocks: readonly Block[];
  readonly sms: string;
}

export interface TemplateDefinition<S extends z.ZodType = z.ZodType> {
  /** Whether a rendered message holds a secret (a code, a single-use link); such a message must be classified `secret`. */
  readonly carriesSecret: boolean;
  readonly variables: S;
  readonly render: (variables: z.output<S>) => TemplateContent;
  /** A reason this message may not go out on `channel`, or undefined when it may. */
  readonly refuseOn?: (variables: z.output<S>, channel: 'email' | 'sms' | 'webhook') => string | undefined;
}

function define<S extends z.ZodType>(definition: TemplateDefinition<S>): TemplateDefinition<S> {
  return definition;
}

const CODE_PURPOSES = {
  'sign-in': { subject: 'Your Tessera sign-in code', action: 'sign in', sms: 'sign-in' },
  'confirm-address': { subject: 'Confirm this address for Tessera', action: 'confirm this address', sms: 'confirmation' },
  recovery: { subject: 'Your Tessera recovery code', action: 'continue the recovery of your account', sms: 'recovery' },
} as const;

export const TEMPLATES = {
  /**
   * An email or SMS one-time code (S7: restricted factors). The code goes into the body only, never
   * into the subject, which lock screens and mail previews show to anyone nearby.
   */
  'one-time-code': define({
    carriesSecret: true,
    variables: z.strictObject({
      code: z.string().regex(/^[0-9]{6,10}$/),
      expiresInMinutes: z.number().int().min(1).max(24 * MINUTE),
      purpose: z.enum(['sign-in', 'confirm-address', 'recovery']).default('sign-in'),
      /**
       * The site the code is for. Adds the origin-bound line (`@example.com #123456`, WICG
       * "Origin-bound one-time codes delivered via SMS") with which browsers offer the code only on
       * that site, a modest defence against a phishing page asking for it.
       */
      domain: domainName.optional(),
    }),
    render: ({ code: value, expiresInMinutes, purpose, domain }) => {
      const wording = CODE_PURPOSES[purpose];
      return {
        subject: wording.subject,
        blocks: [
          `Use this code to ${wording.action}:`,
          code(value),
          `It expires in ${minutes(expiresInMinutes)} and works once. Nobody from Tessera or your security team will ever ask you for it: do not share it.`,
          `If you did not ask for a code, do not use it, and tell your security team.`,
        ],
        sms:
          `Tessera ${wording.sms} code: ${value}. It expires in ${minutes(expiresInMinutes)}. Never share it.` +
          (domain ? `\n\n@${domain} #${value}` : ''),
      };
    },
    /**
     * NIST SP 800-63B-4 §3.1.3: an out-of-band secret sent over the phone network is valid for at
     * most 10 minutes, and the PSTN is a restricted channel (§3.1.3.3: SIM swap, number porting and
     * SS7 interception let others read it). A longer-lived code is refused here as well as where it
     * is issued, so a misconfigured caller cannot widen that window (S7).
     */
    refuseOn: ({ expiresInMinutes }, channel) =>
      channel === 'sms' && expiresInMinutes > 10 ? 'an SMS code may live at most 10 minutes (S7)' : undefined,
  }),

  'factor-bound': define({
    carriesSecret: false,
    variables: factorChange,
    render: ({ factorKind, factorName, occurredAt }) => ({
      subject: 'A sign-in method was added to your account',
      blocks: [
        `${capitalise(FACTOR_LABELS[factorKind])}${factorName ? ` ("${factorName}")` : ''} was added to your Tessera account on ${formatInstant(occurredAt)}.`,
        'If this was you, there is nothing to do.',
        `If it was not you, someone else may be able to sign in as you: remove it in your security settings and ${CONTACT}.`,
      ],
      sms: `Tessera: ${FACTOR_LABELS[factorKind]} was added to your account on ${formatInstant(occurredAt)}. Not you? Remove it and ${CONTACT}.`,
    }),
  }),

  'factor-removed': define({
    carriesSecret: false,
    variables: factorChange.extend({ reason: z.enum(['user_removed', 'recovery', 'incident']).optional() }),
    render: ({ factorKind, factorName, occurredAt, reason }) => {
      const cause = reason ? REMOVAL_CAUSE[reason] : '';
      return {
        subject: 'A sign-in method was removed from your account',
        blocks: [
          `${capitalise(FACTOR_LABELS[factorKind])}${factorName ? ` ("${factorName}")` : ''} was removed from your Tessera account on ${formatInstant(occurredAt)}${cause}.`,
          'If this was you, there is nothing to do.',
          `If it was not you, ${CONTACT}.`,
        ],
        sms: `Tessera: ${FACTOR_LABELS[factorKind]} was removed from your account on ${formatInstant(occurredAt)}${cause}. Not you? ${capitalise(CONTACT)}.`,
      };
    },
  }),

  /**
   * Carries the "this wasn't me" link (a secret, S32): the first notice of a recovery is the one a
   * victim most needs to be able to act on at once (NIST SP 800-63B-4 §4.2.3: notify, so that an
   * unauthorised recovery can be stopped).
   */
  'recovery-requested': define({
    carriesSecret: true,
    variables: z.strictObject({ requestedAt: instant, cancelUrl: linkUrl }),
    render: ({ requestedAt, cancelUrl }) => ({
      subject: 'A recovery of your account was requested',
      blocks: [
        `A recovery of your Tessera account was requested on ${formatInstant(requestedAt)}. A recovery lets someone who lost their sign-in methods add new ones, after identity checks, approvals and a waiting period.`,
        'If you asked for it, there is nothing to do yet: you will hear from us at each step.',
        'If you did not, cancel it now:',
        link(WASNT_ME, cancelUrl),
        `The link works once. You can also sign in with any of your sign-in methods and cancel it, or ${CONTACT}.`,
      ],
      sms: `Tessera: a recovery of your account was requested on ${formatInstant(requestedAt)}. Not you? Cancel it: ${cancelUrl}`,
    }),
  }),

  /** Carries the signed single-use "this wasn't me" link, a secret (S32): the message is `secret`. */
  'recovery-cooling-off-started': define({
    carriesSecret: true,
    variables: z.strictObject({ endsAt: instant, cancelUrl: linkUrl }),
    render: ({ endsAt, cancelUrl }) => ({
      subject: 'Your account recovery was approved',
      blocks: [
        `A recovery of your Tessera account was approved. Unless it is cancelled, it completes on ${formatInstant(endsAt)}, and then new sign-in methods can be added to your account.`,
        'If this was not you, cancel it now:',
        link(WASNT_ME, cancelUrl),
        'The link works once. You can also cancel by signing in with any of your sign-in methods.',
      ],
      sms: `Tessera: a recovery of your account completes on ${formatInstant(endsAt)}. Not you? Cancel it: ${cancelUrl}`,
    }),
  }),

  'recovery-reminder': define({
    carriesSecret: true,
    variables: z.strictObject({ endsAt: instant, cancelUrl: linkUrl }),
    render: ({ endsAt, cancelUrl }) => ({
      subject: 'Reminder: your account recovery completes soon',
      blocks: [
        `Reminder: the recovery of your Tessera account completes on ${formatInstant(endsAt)}. After that, new sign-in methods can be added to your account.`,
        'If this was not you, cancel it now:',
        link(WASNT_ME, cancelUrl),
        'The link works once. You can also cancel by signing in with any of your sign-in methods.',
      ],
      sms: `Tessera reminder: a recovery of your account completes on ${formatInstant(endsAt)}. Not you? Cancel it: ${cancelUrl}`,
    }),
  }),

  'recovery-completed': define({
    carriesSecret: false,
    variables: z.strictObject({ completedAt: instant }),
    render: ({ completedAt }) => ({
      subject: 'Your account recovery is complete',
      blocks: [
        `The recovery of your Tessera account completed on ${formatInstant(completedAt)}. New sign-in methods were added and the ones reported lost no longer work.`,
        'For the next few days, sign-in methods cannot be removed and recovery settings cannot be changed.',
        `If this was not you, ${CONTACT}.`,
      ],
      sms: `Tessera: the recovery of your account completed on ${formatInstant(completedAt)}. Not you? ${capitalise(CONTACT)}.`,
    }),
  }),

  'recovery-cancelled': define({
    carriesSecret: false,
    variables: z.strictObject({ cancelledAt: instant }),
    render: ({ cancelledAt }) => ({
      subject: 'The recovery of your account was cancelled',
      blocks: [
        `The recovery of your Tessera account was cancelled on ${formatInstant(cancelledAt)}. Your sign-in methods were not changed.`,
        `If you did not cancel it and still need to recover your account, ${CONTACT}.`,
      ],
      sms: `Tessera: the recovery of your account was cancelled on ${formatInstant(cancelledAt)}. Your sign-in methods were not changed.`,
    }),
  }),

  /**
   * The pass went to the address of record and the recovery is still running: the person who holds
   * the pass can now add sign-in methods, so a victim gets the link once more.
   */
  'recovery-pass-issued': define({
    carriesSecret: true,
    variables: z.strictObject({ issuedAt: instant, cancelUrl: linkUrl }),
    render: ({ issuedAt, cancelUrl }) => ({
      subject: 'A one-time pass to recover your account was sent',
      blocks: [
        `On ${formatInstant(issuedAt)} the recovery of your Tessera account reached its last step: a one-time pass that lets new sign-in methods be added was sent to your registered address. It is not in this message.`,
        'If this was not you, cancel the recovery now:',
        link(WASNT_ME, cancelUrl),
        `The link works once. If the pass was not yours to receive, ${CONTACT}.`,
      ],
      sms: `Tessera: a one-time recovery pass for your account was sent on ${formatInstant(issuedAt)}. Not you? Cancel it: ${cancelUrl}`,
    }),
  }),

  'recovery-factors-revoked': define({
    carriesSecret: true,
    variables: z.strictObject({ revokedAt: instant, cancelUrl: linkUrl }),
    render: ({ revokedAt, cancelUrl }) => ({
      subject: 'Your old sign-in methods were turned off',
      blocks: [
        `As part of the recovery of your Tessera account, the sign-in methods you had before stopped working on ${formatInstant(revokedAt)}. The ones added during the recovery keep working.`,
        'If this was not you, cancel the recovery now:',
        link(WASNT_ME, cancelUrl),
        `The link works once. Then ${CONTACT}.`,
      ],
      sms: `Tessera: your old sign-in methods were turned off by a recovery on ${formatInstant(revokedAt)}. Not you? Cancel it: ${cancelUrl}`,
    }),
  }),

  'recovery-rejected': define({
    carriesSecret: false,
    variables: z.strictObject({ rejectedAt: instant }),
    render: ({ rejectedAt }) => ({
      subject: 'The recovery of your account was refused',
      blocks: [
        `The recovery of your Tessera account was refused by your security team on ${formatInstant(rejectedAt)}. Your sign-in methods were not changed.`,
        `If you asked for it and still need to recover your account, ${CONTACT}. If you did not ask for it, someone may be trying to take over your account: ${CONTACT}.`,
      ],
      sms: `Tessera: the recovery of your account was refused on ${formatInstant(rejectedAt)}. Your sign-in methods were not changed.`,
    }),
  }),

  'recovery-expired': define({
    carriesSecret: false,
    variables: z.strictObject({ expiredAt: instant }),
    render: ({ expiredAt }) => ({
      subject: 'The recovery of your account expired',
      blocks: [
        `The recovery of your Tessera account expired unfinished on ${formatInstant(expiredAt)}. Your sign-in methods were not changed; anything it handed out no longer works.`,
        `If you still need to recover your account, start again or ${CONTACT}.`,
      ],
      sms: `Tessera: the recovery of your account expired on ${formatInstant(expiredAt)}. Your sign-in methods were not changed.`,
    }),
  }),

  /**
   * A vault restore puts the authenticator seeds of a backup on a device: for the account it is a new
   * binding (DESIGN.md ladder rung 3), and it notifies like one (S22).
   */
  'authenticator-restored': define({
    carriesSecret: false,
    variables: z.strictObject({ restoredAt: instant }),
    render: ({ restoredAt }) => ({
      subject: 'Your authenticator backup was restored',
      blocks: [
        `Your encrypted authenticator backup was restored onto a device on ${formatInstant(restoredAt)}. That device can now produce your sign-in codes.`,
        'If this was you, there is nothing to do.',
        `If it was not you, someone knows your backup passphrase: ${CONTACT}, and replace the sign-in methods in the backup.`,
      ],
      sms: `Tessera: your authenticator backup was restored onto a device on ${formatInstant(restoredAt)}. Not you? ${capitalise(CONTACT)}.`,
    }),
  }),

  'device-reported-lost': define({
    carriesSecret: false,
    variables: z.strictObject({ reason: z.enum(['lost', 'stolen']), reportedAt: instant }),
    render: ({ reason, reportedAt }) => ({
      subject: `A device was reported ${reason} on your account`,
      blocks: [
        `A device of your Tessera account was reported ${reason} on ${formatInstant(reportedAt)}. Its sign-in methods still work until it is revoked.`,
        'If you reported it, revoke it in your security settings once you are sure it is gone.',
        `If you did not report it, ${CONTACT}.`,
      ],
      sms: `Tessera: a device of your account was reported ${reason} on ${formatInstant(reportedAt)}. Not you? ${capitalise(CONTACT)}.`,
    }),
  }),

  'device-revoked': define({
    carriesSecret: false,
    variables: z.strictObject({ reason: z.enum(['user_removed', 'recovery', 'incident']), revokedAt: instant }),
    render: ({ reason, revokedAt }) => ({
      subject: 'A device was removed from your account',
      blocks: [
        `A device was removed from your Tessera account on ${formatInstant(revokedAt)}${REMOVAL_CAUSE[reason]}. Its sign-in methods no longer work.`,
        'If this was you or your security team, there is nothing to do.',
        `If it was not, ${CONTACT}.`,
      ],
      sms: `Tessera: a device was removed from your account on ${formatInstant(revokedAt)}${REMOVAL_CAUSE[reason]}. Not you? ${capitalise(CONTACT)}.`,
    }),
  }),

  /** S9: the user is told when throttling engages (delays at the 5th failure, the lock at the 100th). */
  'throttle-engaged': define({
    carriesSecret: false,
    variables: z.strictObject({ level: z.enum(['delayed', 'locked']), occurredAt: instant }),
    render: ({ level, occurredAt }) =>
      level === 'delayed'
        ? {
            subject: 'Wrong codes were entered for your account',
            blocks: [
              `Several wrong codes were entered for your Tessera account, most recently on ${formatInstant(occurredAt)}. Further attempts are now slowed down.`,
              `If this was not you, someone may be trying to sign in as you: ${CONTACT}. A security key or passkey still signs you in.`,
            ],
            sms: `Tessera: several wrong codes were entered for your account (${formatInstant(occurredAt)}). Not you? ${capitalise(CONTACT)}.`,
          }
        : {
            subject: 'Codes are locked on your account',
            blocks: [
              `Too many wrong codes were entered for your Tessera account, most recently on ${formatInstant(occurredAt)}. Codes are no longer accepted.`,
              'You can still sign in with a security key or passkey, start a recovery, or ask your security team to unlock your account.',
              `If the wrong codes were not yours, ${CONTACT}.`,
            ],
            sms: `Tessera: codes are locked on your account after too many wrong ones (${formatInstant(occurredAt)}). Use a security key or passkey, or ${CONTACT}.`,
          },
  }),

  'account-frozen': define({
    carriesSecret: false,
    variables: z.strictObject({ frozenAt: instant }),
    render: ({ frozenAt }) => ({
      subject: 'Your account was frozen by your security team',
      blocks: [
        `Your security team froze your Tessera account on ${formatInstant(frozenAt)} while they look into possible misuse. Sign-in methods cannot be added or removed, and no recovery can start.`,
        'Your security team will contact you. Nobody will ask you for a code or a password.',
      ],
      sms: `Tessera: your security team froze your account on ${formatInstant(frozenAt)}. They will contact you; nobody will ask you for a code.`,
    }),
  }),

  'account-unfrozen': define({
    carriesSecret: false,
    variables: z.strictObject({ unfrozenAt: instant }),
    render: ({ unfrozenAt }) => ({
      subject: 'Your account was unfrozen',
      blocks: [
        `Your security team unfroze your Tessera account on ${formatInstant(unfrozenAt)}. Sign-in methods can be added and removed again.`,
        `If you were not told why, ${CONTACT}.`,
      ],
      sms: `Tessera: your security team unfroze your account on ${formatInstant(unfrozenAt)}.`,
    }),
  }),

  /** Reminds staff (approvers, reviewers) through the on-call webhook of a recovery that waits for them. */
  'staff-reminder': define({
    carriesSecret: false,
    variables: z.strictObject({
      reminder: z.enum(['approval-pending', 'post-incident-review-open']),
      reference: identifier,
      subjectUserId: identifier,
      raisedAt: instant,
    }),
    render: ({ reminder, reference, subjectUserId, raisedAt }) => {
      const what = reminder === 'approval-pending' ? 'is waiting for approvals' : 'has a post-incident review still open';
      return {
        subject: `[Tessera] Recovery ${reference} ${what}`,
        blocks: [`Recovery ${reference} ${what}.`, `User: ${subjectUserId}`, `Reminder sent: ${formatInstant(raisedAt)}`],
        sms: `Tessera reminder: recovery ${reference} (user ${subjectUserId}) ${what}.`,
      };
    },
  }),

  /** Pages on-call (break-glass recoveries, incidents) through the signed webhook. */
  'on-call-page': define({
    carriesSecret: false,
    variables: z.strictObject({
      reason: z.enum(['break-glass-recovery', 'incident']),
      reference: identifier,
      subjectUserId: identifier,
      /** Printable ASCII: it goes to pagers and SMS as is. */
      summary: z.string().regex(/^[\x20-\x7e]{1,200}$/),
      raisedAt: instant,
    }),
    render: ({ reason, reference, subjectUserId, summary, raisedAt }) => {
      const what = reason === 'incident' ? 'Incident' : 'Break-glass recovery';
      return {
        subject: `[Tessera] ${what} ${reference} needs on-call`,
        blocks: [summary, `${what}: ${reference}`, `User: ${subjectUserId}`, `Raised: ${formatInstant(raisedAt)}`],
        sms: `Tessera page: ${what} ${reference}, user ${subjectUserId}: ${summary}`,
      };
    },
  }),
} as const satisfies Record<string, TemplateDefinition>;

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export type TemplateId = keyof typeof TEMPLATES;
export const TEMPLATE_IDS = Object.keys(TEMPLATES) as readonly TemplateId[];

/** What a caller passes for a template: ISO strings or Dates for instants, defaults may be left out. */
export type TemplateVariables<T extends TemplateId> = z.input<(typeof TEMPLATES)[T]['variables']>;

export function isTemplateId(value: unknown): value is TemplateId {
  return typeof value === 'string' && Object.hasOwn(TEMPLATES, value);
}
