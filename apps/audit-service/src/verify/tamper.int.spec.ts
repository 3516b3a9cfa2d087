import { type AuditRecord, computeRecordHash } from '@tessera/audit-domain';
import { eventually } from '@tessera/testing';
import type { Client } from 'pg';
import { runCli } from '../../../cli/src/cli';
import { COMMANDS } from '../../../cli/src/commands';
import { type AuditRecordRow, RECORD_COLUMNS, toAuditRecord } from '../chain/audit-record.rows';
import { CheckpointSink } from '../chain/checkpoint-sink.service';
import { ChainVerificationService } from './chain-verification.service';
import { type AuditTestBed, type GrpcVerifyAnswer, appendSynthetic, auditGrpcClient, ownerConnection, startAuditTestBed } from '../test/audit-test-bed.kit.spec';

/**
 * R8 against the real database: the application's path is append-only, and whatever an insider
 * with the owner's rights does to the tables in SQL — change, delete, insert, reorder, rewrite with
 * every hash recomputed, drop checkpoints, cut the tail — `POST /v1/audit/verify`, gRPC VerifyChain
 * and `tessera audit verify` name the first bad position.
 */
const COUNT = 60;
const EVERY = 10;

describe('tamper evidence of the audit log in PostgreSQL (R8)', () => {
  let bed: AuditTestBed;
  let owner: Client;
  let auditor: string;

  beforeAll(async () => {
    bed = await startAuditTestBed({ AUDIT_CHECKPOINT_EVERY: String(EVERY) });
    auditor = await bed.audit.token('auditor-1', ['auditor']);
    await appendSynthetic(bed.audit, 1, COUNT);
    owner = await ownerConnection(bed.audit);
    // The sink holds every checkpoint before anything is touched.
    await eventually(async () => (await owner.query(`SELECT published_through::int AS n FROM audit_checkpoint_sinks`)).rows[0]?.n === COUNT);
    for (const table of ['audit_records', 'audit_checkpoints', 'audit_chain_head']) await owner.query(`CREATE TABLE pristine_${table} AS SELECT * FROM ${table}`);
  });

  afterAll(async () => {
    await owner?.end();
    await bed?.stop();
  });

  /** Runs SQL as the owner with the append-only triggers switched off, checks, then puts everything back. */
  async function whileTampered(statements: readonly string[], check: () => Promise<void>): Promise<void> {
    await asOwner(statements);
    try {
      await check();
    } finally {
      await asOwner(['audit_records', 'audit_checkpoints', 'audit_chain_head'].flatMap((table) => [`DELETE FROM ${table}`, `INSERT INTO ${table} SELECT * FROM pristine_${table}`]));
    }
  }

  async function asOwner(statements: readonly string[]): Promise<void> {
    const tables = ['audit_records', 'audit_checkpoints', 'audit_chain_head'];
    await owner.query('BEGIN');
    try {
      for (const table of tables) await owner.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
      for (const statement of statements) await owner.query(statement);
      for (const table of tables) await owner.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
      await owner.query('COMMIT');
    } catch (error) {
      await owner.query('ROLLBACK');
      throw error;
    }
  }

  const verify = async (body: object = {}) => {
    const answer = await bed.audit.request('POST', '/v1/audit/verify', { token: auditor, body });
    expect(answer.status).toBe(200);
    return answer.body;
  };
  const failureOf = async (body: object = {}) => {
    const result = await verify(body);
    expect(result.ok).toBe(false);
    return { position: result.failure.position, reason: result.failure.reason };
  };

  async function records(): Promise<AuditRecord[]> {
    const rows: AuditRecordRow[] = (await owner.query(`SELECT ${RECORD_COLUMNS} FROM audit_records ORDER BY position`)).rows;
    return rows.map(toAuditRecord);
  }

  /** What a writer with table access can do: change record `from` and recompute every hash after it. */
  async function rewriteFrom(from: number, change: Partial<AuditRecord>): Promise<string[]> {
    const all = await records();
    const statements: string[] = [];
    let previousHash = all[from - 2].hash;
    for (const record of all.slice(from - 1)) {
      const changed = { ...record, ...(record.position === from ? change : {}), previousHash };
      const hash = computeRecordHash(previousHash, changed);
      statements.push(`UPDATE audit_records SET ticket = ${literal(changed.ticket)}, previous_hash = '${previousHash}', hash = '${hash}' WHERE position = ${record.position}`);
      previousHash = hash;
    }
    statements.push(`UPDATE audit_chain_head SET hash = '${previousHash}'`);
    return statements;
  }

  it('R8: the untouched log verifies: 60 records, 6 signed checkpoints, also against the sink', async () => {
    expect(await verify()).toMatchObject({ ok: true, recordCount: COUNT, firstPosition: 1, lastPosition: COUNT, checkpointsVerified: 6, headPosition: COUNT });
    expect(await verify({ includeSink: true })).toMatchObject({ ok: true, checkpointSources: { database: 6, sink: 6, sinkMalformed: 0 } });
  });

  it("R8: the application's own path is append-only: no update, delete or truncate of records, checkpoints or the head", async () => {
    const app = bed.audit.service.resources.dataSource;
    await expect(app.query(`UPDATE audit_records SET ticket = 'HD-forged' WHERE position = 4`)).rejects.toThrow(/append-only/);
    await expect(app.query(`DELETE FROM audit_records WHERE position = 4`)).rejects.toThrow(/append-only/);
    await expect(app.query(`TRUNCATE audit_records`)).rejects.toThrow(/append-only/);
    await expect(app.query(`DELETE FROM audit_checkpoints WHERE to_position = 10`)).rejects.toThrow(/append-only/);
    await expect(app.query(`UPDATE audit_chain_head SET position = 3`)).rejects.toThrow(/only moves forward/);
    await expect(app.query(`UPDATE audit_retention_state SET deleted_through = 15`)).rejects.toThrow(/signed checkpoint/);
    expect(await verify()).toMatchObject({ ok: true, recordCount: COUNT });
  });

  it('R8: a field changed in SQL is found at that row (hash_mismatch)', async () => {
    await whileTampered([`UPDATE audit_records SET ticket = 'HD-forged' WHERE position = 17`], async () => {
      expect(await failureOf()).toEqual({ position: 17, reason: 'hash_mismatch' });
    });
  });

  it('R8: a change in an indexed column (the correlation id an auditor searches by) is found at that row', async () => {
    await whileTampered([`UPDATE audit_records SET correlation_id = 'corr-elsewhere' WHERE position = 33`], async () => {
      expect(await failureOf()).toEqual({ position: 33, reason: 'hash_mismatch' });
    });
  });

  it('R8: a change with its own hash recomputed is found at the next row (previous_hash_mismatch)', async () => {
    const [first] = await rewriteFrom(17, { ticket: 'HD-forged' });
    await whileTampered([first], async () => {
      expect(await failureOf()).toEqual({ position: 18, reason: 'previous_hash_mismatch' });
    });
  });

  it('R8: a deleted row is found at its position (position_gap)', async () => {
    await whileTampered([`DELETE FROM audit_records WHERE position = 23`], async () => {
      expect(await failureOf()).toEqual({ position: 23, reason: 'position_gap' });
    });
  });

  it('R8: a row inserted in the middle (later rows renumbered) is found at the inserted position', async () => {
    await whileTampered(
      [
        `UPDATE audit_records SET position = position + 1000 WHERE position >= 31`,
        `UPDATE audit_records SET position = position - 999 WHERE position >= 1031`,
        `INSERT INTO audit_records (${RECORD_COLUMNS}) SELECT 31, previous_hash, hash, '0195a000-00ff-7000-8000-000000000031', source, event_type, event_version, category, outcome, actor_kind, actor_id, actor_is_subject, subject_ref, occurred_at, recorded_at, correlation_id, causation_id, ticket, reason_code, details, personal FROM audit_records WHERE position = 30`,
      ],
      async () => {
        expect(await failureOf()).toEqual({ position: 31, reason: 'previous_hash_mismatch' });
      },
    );
  });

  it('R8: two rows swapped are found at the first of them', async () => {
    await whileTampered(
      [`UPDATE audit_records SET position = CASE position WHEN 40 THEN 1041 ELSE 1040 END WHERE position IN (40, 41)`, `UPDATE audit_records SET position = position - 1000 WHERE position > 1000`],
      async () => {
        expect(await failureOf()).toEqual({ position: 40, reason: 'previous_hash_mismatch' });
      },
    );
  });

  it('R8: a rewrite with every later hash recomputed is caught by the next signed checkpoint (checkpoint_head_mismatch)', async () => {
    await whileTampered(await rewriteFrom(45, { ticket: 'HD-forged' }), async () => {
      expect(await failureOf()).toEqual({ position: 50, reason: 'checkpoint_head_mismatch' });
    });
  });

  it('R8: the same rewrite with the covering checkpoints deleted: checkpoint_missing, and the sink still holds the originals', async () => {
    const statements = [...(await rewriteFrom(45, { ticket: 'HD-forged' })), `DELETE FROM audit_checkpoints WHERE to_position >= 50`, `UPDATE audit_chain_head SET last_checkpoint_position = 40`];
    await whileTampered(statements, async () => {
      expect(await failureOf()).toEqual({ position: 50, reason: 'checkpoint_missing' });
      expect(await failureOf({ includeSink: true })).toEqual({ position: 50, reason: 'checkpoint_head_mismatch' });
    });
  });

  it('R8: a deleted tail is found at its first missing position', async () => {
    await whileTampered([`DELETE FROM audit_records WHERE position >= 55`], async () => {
      expect(await failureOf()).toEqual({ position: 55, reason: 'truncated_after_checkpoint' });
    });
    await whileTampered([`DELETE FROM audit_records WHERE position >= 55`, `DELETE FROM audit_checkpoints WHERE to_position = 60`, `UPDATE audit_chain_head SET last_checkpoint_position = 50`], async () => {
      expect(await failureOf()).toEqual({ position: 55, reason: 'position_gap' });
    });
  });

  it('R8: tessera audit verify exits 0 on a sound log and 1 naming the first bad position on a tampered one', async () => {
    const run = async () => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['audit', 'verify'], COMMANDS, { env: { TESSERA_AUDIT_URL: bed.audit.url, TESSERA_TOKEN: auditor }, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
      return { code, stdout, stderr };
    };
    const sound = await run();
    expect(sound).toMatchObject({ code: 0, stderr: '' });
    expect(sound.stdout).toContain(`audit log verified: ${COUNT} records (positions 1..${COUNT}), 6 signed checkpoints`);
    await whileTampered([`UPDATE audit_records SET details = details || '{"recoveryId": "r-forged"}' WHERE position = 14`], async () => {
      const tampered = await run();
      expect(tampered.code).toBe(1);
      expect(tampered.stderr).toMatch(/^error: chain_broken: first bad position 14 \(hash_mismatch\)/);
    });
  });

  it('R8: gRPC VerifyChain names the first bad position too', async () => {
    const client = auditGrpcClient(bed.audit);
    const call = () => client.call<GrpcVerifyAnswer>('VerifyChain', { include_sink: false }, auditor);
    try {
      expect(await call()).toMatchObject({ ok: true, record_count: String(COUNT) });
      await whileTampered([`DELETE FROM audit_records WHERE position = 8`], async () => {
        expect(await call()).toMatchObject({ ok: false, failure: { position: '8', reason: 'position_gap' } });
      });
    } finally {
      client.close();
    }
  });

  it('R7: a second verification while one runs on the instance is refused with 429 verification_in_progress', async () => {
    const service = bed.audit.service.app.get(ChainVerificationService);
    const [first, second] = await Promise.allSettled([service.verify(), service.verify()]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { ok: true } });
    expect(second).toMatchObject({ status: 'rejected', reason: { status: 429, code: 'verification_in_progress' } });
  });

  it('R7: verification needs the auditor or admin role and a well-formed body', async () => {
    const user = await bed.audit.token('user-1');
    expect(await bed.audit.request('POST', '/v1/audit/verify', { body: {} })).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
    expect(await bed.audit.request('POST', '/v1/audit/verify', { token: user, body: {} })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await bed.audit.request('POST', '/v1/audit/verify', { token: await bed.audit.token('hd-1', ['helpdesk']), body: {} })).toMatchObject({ status: 403 });
    expect(await bed.audit.request('POST', '/v1/audit/verify', { token: auditor, body: { includeSink: 'yes' } })).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(await bed.audit.request('POST', '/v1/audit/verify', { token: auditor, body: { fromPosition: 1 } })).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(await bed.audit.request('POST', '/v1/audit/verify', { token: auditor, rawBody: '{"includeSink":' })).toMatchObject({ status: 400, body: { error: { code: 'malformed_json' } } });
    expect(await bed.audit.request('POST', '/v1/audit/verify', { token: await bed.audit.token('admin-1', ['admin']) })).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('R8: a quiet log gets its tail signed on the timer and exported, so it does not rest on the chain alone', async () => {
    await appendSynthetic(bed.audit, COUNT + 1, 3);
    expect(await verify()).toMatchObject({ ok: true, lastCheckpointPosition: COUNT, recordsAfterLastCheckpoint: 3 });
    await bed.audit.service.app.get(CheckpointSink).runOnce({ forceCheckpoint: true });
    // Published by this call or by the background loop, whichever takes the sink's lock first.
    await eventually(async () => (await verify({ includeSink: true })).checkpointSources.sink === 7);
    expect(await verify({ includeSink: true })).toMatchObject({ ok: true, lastCheckpointPosition: COUNT + 3, recordsAfterLastCheckpoint: 0, checkpointSources: { database: 7, sink: 7 } });
  });
});

function literal(value: string | null): string {
  return value === null ? 'NULL' : `'${value.replaceAll("'", "''")}'`;
}
