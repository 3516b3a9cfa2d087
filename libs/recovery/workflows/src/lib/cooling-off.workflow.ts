import { condition, defineQuery, defineSignal, setHandler, workflowInfo } from '@temporalio/workflow';

/**
 * The cooling-off wait of a recovery (DESIGN.md, rung 4): the recovery may go on only after the
 * period has passed without the real user cancelling. A durable timer raced against a cancel signal:
 * it survives worker restarts (R3) because Temporal keeps the timer, not this process.
 */
export interface CoolingOffInput {
  readonly recoveryId: string;
  /** How long to wait, in milliseconds (policy default 24 h; longer with risk signals). */
  readonly durationMs: number;
}

export type CoolingOffOutcome = { readonly outcome: 'elapsed' } | { readonly outcome: 'cancelled'; readonly by: string };

export interface CoolingOffState {
  readonly recoveryId: string;
  readonly status: 'waiting' | 'elapsed' | 'cancelled';
  readonly endsAt: string;
}

export const cancelCoolingOffSignal = defineSignal<[{ readonly by: string }]>('cancelCoolingOff');
export const coolingOffStateQuery = defineQuery<CoolingOffState>('coolingOffState');

export async function coolingOffWorkflow(input: CoolingOffInput): Promise<CoolingOffOutcome> {
  const endsAt = new Date(workflowInfo().startTime.getTime() + input.durationMs).toISOString();
  let cancelledBy: string | undefined;
  let status: CoolingOffState['status'] = 'waiting';

  setHandler(cancelCoolingOffSignal, ({ by }) => {
    // A cancel that arrives before the period ends always wins; one after it is ignored.
    if (status === 'waiting') cancelledBy = by;
  });
  setHandler(coolingOffStateQuery, () => ({ recoveryId: input.recoveryId, status, endsAt }));

  const cancelled = await condition(() => cancelledBy !== undefined, input.durationMs);
  status = cancelled ? 'cancelled' : 'elapsed';
  return cancelled ? { outcome: 'cancelled', by: cancelledBy as string } : { outcome: 'elapsed' };
}
