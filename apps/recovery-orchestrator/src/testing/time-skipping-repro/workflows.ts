// The two workflows of the time-skipping reproduction (repro.ts): one that waits forever, one timer.
import { condition, defineSignal, ParentClosePolicy, setHandler, sleep, startChild } from '@temporalio/workflow';

/** A signal the waiting workflow has no handler for: delivering it only creates a workflow task. */
export const pokeSignal = defineSignal('poke');

export async function waitForever(): Promise<void> {
  await condition(() => false);
}

export async function oneDayTimer(): Promise<string> {
  await sleep('1 day');
  return 'woke';
}

/** A parent that starts `waitUntilPoked` as an abandoned child and returns at once (as the recovery opens an incident). */
export async function parentOfAbandonedChild(childId: string): Promise<void> {
  await startChild(waitUntilPoked, { workflowId: childId, parentClosePolicy: ParentClosePolicy.ABANDON });
}

export async function waitUntilPoked(): Promise<void> {
  let poked = false;
  setHandler(pokeSignal, () => void (poked = true));
  await condition(() => poked);
}
