import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { RECOVERY_HISTORIES_DIR } from '@tessera/recovery-workflows';
import { quietTemporalLogs, workflowBundle } from '../testing/workflow-env';
import { temporalDataConverter } from './payload-codec';

/**
 * R4: the current workflow code must replay every recorded history (libs/recovery/workflows/src/histories,
 * written by testing/record-histories.ts). A change that would break running workflows fails here with
 * a determinism error; make it compatible (patched) instead, then record new histories beside the old.
 * The replayer decodes through the service's payload codec, as the worker does (S32); the recorded
 * histories predate the codec and their unsealed payloads pass through it unchanged.
 */
const files = readdirSync(RECOVERY_HISTORIES_DIR).filter((name) => name.endsWith('.json')).sort();
const recorded = files.map((name) => {
  const { workflowId, history } = JSON.parse(readFileSync(join(RECOVERY_HISTORIES_DIR, name), 'utf8')) as { workflowId: string; history: object };
  return { name, workflowId, history: temporal.api.history.v1.History.fromObject(history) };
});

const typeOf = (history: temporal.api.history.v1.IHistory) => history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;

beforeAll(() => quietTemporalLogs());

describe('R4: recorded histories replay against the current workflow code', () => {
  it('R4: there are recorded histories of every workflow type', () => {
    expect(new Set(recorded.map((entry) => typeOf(entry.history)))).toEqual(new Set(['recoveryWorkflow', 'incidentWorkflow', 'drillWorkflow']));
  });

  it('R4: every recorded history replays without a determinism error', async () => {
    const results: { workflowId: string; error?: unknown }[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle(), dataConverter: temporalDataConverter({ TESSERA_ENV: 'test' }) }, recorded.map(({ workflowId, history }) => ({ workflowId, history })))) {
      results.push(result);
    }
    expect(results.map((result) => ({ workflowId: result.workflowId, error: result.error ? String(result.error) : undefined }))).toEqual(
      recorded.map(({ workflowId }) => ({ workflowId, error: undefined })),
    );
  });
});
