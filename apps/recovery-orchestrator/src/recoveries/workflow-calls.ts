import { ApplicationFailure, type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { DomainError } from '@tessera/event-sourcing';
import { ApiError } from '@tessera/platform';
import { DOMAIN_ERROR_TYPE } from '@tessera/recovery-workflows';

const KINDS = new Set(['conflict', 'invalid', 'forbidden', 'not_found', 'throttled']);

/** How long a person's request waits for the workflow to take the step before answering 503. */
const UPDATE_WAIT_MS = 30_000;

/**
 * Sends an update to a workflow and answers with its result, or with the decider's refusal as a
 * DomainError (a 4xx), or 409 when the workflow has already finished; 503 when Temporal cannot be
 * reached or the worker does not take the step in time.
 */
export async function callWorkflow<T>(work: () => Promise<T>, finishedCode = 'recovery_terminal'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ApiError(503, 'workflow_unavailable', 'The workflow did not take the step in time; retry with the same Idempotency-Key.')), UPDATE_WAIT_MS);
      }),
    ]);
  } catch (error) {
    throw translate(error, finishedCode);
  } finally {
    clearTimeout(timer);
  }
}

export function translate(error: unknown, finishedCode: string): unknown {
  if (error instanceof ApiError || error instanceof DomainError) return error;
  const cause = error instanceof WorkflowUpdateFailedError ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type === DOMAIN_ERROR_TYPE) {
    const [code, kind, message] = (cause.details ?? []) as [string, string, string];
    return new DomainError(String(code), String(message), (KINDS.has(kind) ? kind : 'conflict') as DomainError['kind']);
  }
  const text = (error as Error)?.message ?? '';
  if (error instanceof WorkflowNotFoundError || /workflow execution already completed|not found/i.test(text)) {
    return new DomainError(finishedCode, 'Nothing more can happen to it: its workflow has finished', 'conflict');
  }
  return new ApiError(503, 'workflow_unavailable', 'The workflow service is unavailable; retry with the same Idempotency-Key.');
}

export type TemporalClient = Client;
