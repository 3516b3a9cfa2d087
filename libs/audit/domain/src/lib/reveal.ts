import { ACTOR_ID_FIELD, type AuditActor, type AuditRecord, REASON_FIELD, SUBJECT_USER_ID_FIELD } from './audit-record';
import { type DataKeyLookup, type Erased, openPersonal, type PersonalView, personalValue } from './personal-data';

/**
 * A record as an authorised reader sees it: the stored record, untouched (it is what the chain
 * verifies), beside its personal fields opened, erased or unreadable. Reports and the security
 * history work on this, never on plaintext written back into a record.
 */
export interface RevealedAuditRecord {
  readonly record: AuditRecord;
  readonly personal: PersonalView;
}

export function revealRecord(record: AuditRecord, keys: DataKeyLookup): RevealedAuditRecord {
  const sealed = record.personal;
  return { record, personal: sealed === null ? { status: 'none' } : openPersonal(sealed, keys(sealed.keyId), record.eventId) };
}

/** An actor with the subject's own id filled in from the sealed block when readable. */
export interface RevealedActor {
  readonly kind: AuditActor['kind'];
  readonly id: string | Erased | null;
}

export function actorOf(revealed: RevealedAuditRecord): RevealedActor {
  const { actor } = revealed.record;
  return { kind: actor.kind, id: actor.id ?? personalValue(revealed.personal, ACTOR_ID_FIELD) };
}

export function subjectUserIdOf(revealed: RevealedAuditRecord): string | Erased | null {
  return personalValue(revealed.personal, SUBJECT_USER_ID_FIELD);
}

export function reasonOf(revealed: RevealedAuditRecord): string | Erased | null {
  return personalValue(revealed.personal, REASON_FIELD);
}
