import { RECOVERY_EVENT_SCHEMAS } from '@tessera/contracts';
import {
  approve,
  ASSISTED_PATH,
  at,
  cancelByLink,
  closeReview,
  complete,
  DAY,
  enrol,
  expire,
  history,
  HOUR,
  issuePass,
  MINUTE,
  OFFICER_1,
  OFFICER_2,
  OFFICER_3,
  OFFICER_4,
  PASS_ISSUED_AT,
  recordEvidence,
  recordOnCallPage,
  redeem,
  requestRecovery,
  revokeOld,
} from '../../testing/recovery-fixtures';
import { type RecoveryCommand } from './recovery.commands';
import { type RecoveryEvent } from './recovery.state';

/** What a careless adapter might pass along: the pass secret, the cancel-link token. */
const SECRET = 'TAP-7QX2-PLMK-99ZA-SECRET';

/** Adds secret-bearing fields to a command's data, as an adapter spreading a request body would. */
function smuggle(command: RecoveryCommand): RecoveryCommand {
  const data = { ...command.data, secret: SECRET, passSecret: SECRET, token: SECRET } as Record<string, unknown>;
  if ('link' in command.data) data['link'] = { ...command.data.link, token: SECRET };
  return { ...command, data } as RecoveryCommand;
}

const breakGlass = [
  requestRecovery({ kind: 'break-glass' }),
  recordOnCallPage(at(MINUTE)),
  recordEvidence(at(HOUR)),
  approve(OFFICER_1, at(2 * HOUR)),
  approve(OFFICER_2, at(3 * HOUR)),
  approve(OFFICER_3, at(4 * HOUR)),
  issuePass(at(8 * HOUR)),
  redeem(at(8 * HOUR + MINUTE)),
  enrol(at(8 * HOUR + 2 * MINUTE)),
  revokeOld(at(8 * HOUR + 3 * MINUTE)),
  complete(at(8 * HOUR + 3 * MINUTE + 7 * DAY)),
  closeReview(OFFICER_4, at(9 * DAY)),
];

/** Every path through the decider the specs use, with secrets smuggled into every command. */
const PATHS: Record<string, readonly RecoveryCommand[]> = {
  'assisted, completed': ASSISTED_PATH.completed,
  'break-glass, completed and reviewed': breakGlass,
  'cancelled by link after enrolment': [...ASSISTED_PATH.enrolled, cancelByLink(at(PASS_ISSUED_AT + 30 * MINUTE))],
  'expired with an unused pass': [...ASSISTED_PATH.passIssued, expire(at(PASS_ISSUED_AT + HOUR))],
  'rejected on failed evidence': [...ASSISTED_PATH.requested, recordEvidence(at(HOUR), { outcome: 'failed' })],
};

const eventsOf = (commands: readonly RecoveryCommand[]): RecoveryEvent[] => history(commands.map(smuggle));

function keysDeep(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => keysDeep(item, into));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, nested] of Object.entries(value)) {
      into.push(key);
      keysDeep(nested, into);
    }
  }
  return into;
}

describe('no secret in any event (S29, S32)', () => {
  it.each(Object.keys(PATHS))('S32: %s: no event contains the TAP secret or the link token', (path) => {
    const events = eventsOf(PATHS[path]);
    expect(events.length).toBeGreaterThan(1);
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it.each(Object.keys(PATHS))('S29: %s: no event has a field named like a secret', (path) => {
    const keys = keysDeep(eventsOf(PATHS[path]));
    expect(keys.filter((key) => /secret|token|password|passphrase|seed|otp|code|answer|question/i.test(key))).toEqual([]);
  });

  it.each(Object.keys(PATHS))('%s: every event satisfies its published, strict contract', (path) => {
    for (const event of eventsOf(PATHS[path])) {
      const parsed = RECOVERY_EVENT_SCHEMAS[event.type].safeParse(event.data);
      expect({ type: event.type, issues: parsed.success ? [] : parsed.error.issues }).toEqual({ type: event.type, issues: [] });
    }
  });

  it('S32: TemporaryAccessPassIssued carries the pass id and its lifetime, nothing else', () => {
    const issued = eventsOf(ASSISTED_PATH.passIssued).find((event) => event.type === 'TemporaryAccessPassIssued');
    expect(Object.keys(issued?.data ?? {}).sort()).toEqual(
      ['enrolmentDueBy', 'expiresAt', 'issuedAt', 'passId', 'policyVersion', 'recoveryId', 'singleUse', 'usableFor', 'userId'].sort(),
    );
  });

  it('S32: the published contract refuses a pass secret added to the issued event', () => {
    const issued = eventsOf(ASSISTED_PATH.passIssued).find((event) => event.type === 'TemporaryAccessPassIssued');
    expect(RECOVERY_EVENT_SCHEMAS.TemporaryAccessPassIssued.safeParse({ ...issued?.data, secret: SECRET }).success).toBe(false);
  });
});
