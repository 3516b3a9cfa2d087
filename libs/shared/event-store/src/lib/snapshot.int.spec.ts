import { EventRegistry } from '@tessera/contracts';
import { type Decider, fold } from '@tessera/event-sourcing';
import { type TestDatabase, createTestDatabase } from '@tessera/testing';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { CommandHandler, type SnapshotCodec } from './command-handler';
import { AppendGuardFailed, ConcurrencyError } from './errors';
import { GATE, type InlineProjection, PostgresEventStore } from './event-store';
import { EVENT_STORE_MIGRATIONS } from './migrations';

/** A ledger whose state holds a Date, so a snapshot must go through its codec to fold back the same. */
type LedgerEvent = { type: 'LedgerEntryRecorded'; data: { userId: string; amount: number; at: string } };
type LedgerCommand = { type: 'Record'; userId: string; amount: number; at: Date };
type LedgerState = { entries: number; balance: number; lastAt: Date | null; amounts: number[] };

const ledger: Decider<LedgerCommand, LedgerEvent, LedgerState> = {
  initialState: () => ({ entries: 0, balance: 0, lastAt: null, amounts: [] }),
  evolve: (state, event) => ({
    entries: state.entries + 1,
    balance: state.balance + event.data.amount,
    lastAt: new Date(event.data.at),
    amounts: [...state.amounts, event.data.amount].slice(-5),
  }),
  decide: (command) => [{ type: 'LedgerEntryRecorded', data: { userId: command.userId, amount: command.amount, at: command.at.toISOString() } }],
};

const ledgerCodec: SnapshotCodec<LedgerState> = {
  name: 'ledger.v1',
  encode: (state) => ({ ...state, lastAt: state.lastAt?.toISOString() ?? null }),
  decode: (stored) => {
    const parsed = z.strictObject({ entries: z.number(), balance: z.number(), lastAt: z.string().nullable(), amounts: z.array(z.number()) }).parse(stored);
    return { ...parsed, lastAt: parsed.lastAt === null ? null : new Date(parsed.lastAt) };
  },
};

const registry = () => new EventRegistry().register({ LedgerEntryRecorded: z.strictObject({ userId: z.string(), amount: z.number().int(), at: z.iso.datetime() }) });
const metadata = { actor: { kind: 'user' as const, id: 'user-1' }, correlationId: 'snapshot-test' };

describe('snapshots and one-statement appends', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  let handler: CommandHandler;

  beforeAll(async () => {
    database = await createTestDatabase('event_store_snapshots');
    dataSource = new DataSource({ type: 'postgres', url: database.url, migrations: [...EVENT_STORE_MIGRATIONS], extra: { max: 30 } });
    await dataSource.initialize();
    await dataSource.runMigrations();
    await dataSource.query(`CREATE TABLE guard_rows (id TEXT PRIMARY KEY, used_by TEXT)`);
    await dataSource.query(`CREATE TABLE effects (stream_id TEXT NOT NULL, note TEXT NOT NULL)`);
    store = new PostgresEventStore(dataSource, registry());
    handler = new CommandHandler(store, 50);
    handler.enableSnapshots(ledger, { codec: ledgerCodec, every: 10 });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const context = (streamId: string) => ({ streamId, partitionKey: 'user-1', metadata, now: new Date('2026-11-28T10:00:00Z') });
  const record = (streamId: string, amount: number, at = new Date(Date.UTC(2026, 10, 28, 10, 0, amount % 60))) =>
    handler.handle(ledger, { type: 'Record', userId: 'user-1', amount, at }, context(streamId));
  const fullFold = async (streamId: string) => fold(ledger, (await store.readStream(streamId)).events as unknown as LedgerEvent[]);
  const snapshotRow = async (streamId: string): Promise<{ version: number; codec: string } | undefined> =>
    (await dataSource.query(`SELECT version, codec FROM stream_snapshots WHERE stream_id = $1`, [streamId]))[0];

  it('a snapshot and the events after it fold to the same state as the whole stream (Dates through the codec)', async () => {
    for (let amount = 1; amount <= 57; amount++) await record('ledger-a', amount);
    expect(await snapshotRow('ledger-a')).toEqual({ version: 50, codec: 'ledger.v1' });
    const loaded = await handler.load(ledger, 'ledger-a');
    expect(loaded).toMatchObject({ version: 57, snapshotVersion: 50 });
    expect(loaded.state).toEqual(await fullFold('ledger-a'));
    expect(loaded.state.lastAt).toBeInstanceOf(Date);
    expect(loaded.state.balance).toBe((57 * 58) / 2);
  });

  it('a snapshot of another codec, or one its codec cannot read, is ignored: the whole stream is folded and the snapshot replaced', async () => {
    for (let amount = 1; amount <= 12; amount++) await record('ledger-b', amount);
    const expected = await fullFold('ledger-b');
    await dataSource.query(`UPDATE stream_snapshots SET state = '{"entries":"garbage"}' WHERE stream_id = 'ledger-b'`);
    expect((await handler.load(ledger, 'ledger-b')).state).toEqual(expected);
    await dataSource.query(`UPDATE stream_snapshots SET codec = 'ledger.v0', state = '{"entries":999}' WHERE stream_id = 'ledger-b'`);
    const loaded = await handler.load(ledger, 'ledger-b');
    expect(loaded).toMatchObject({ state: expected, snapshotVersion: 0 });
    await record('ledger-b', 13);
    expect(await snapshotRow('ledger-b')).toEqual({ version: 13, codec: 'ledger.v1' });
    expect((await handler.load(ledger, 'ledger-b')).state).toEqual(await fullFold('ledger-b'));
  });

  it('R5: parallel writers on a snapshotted stream all land exactly once, and every snapshot equals the fold at its version', async () => {
    const writers = 30;
    await Promise.all(Array.from({ length: writers }, (_, index) => record('ledger-r5', index + 1)));
    const { events, version } = await store.readStream('ledger-r5');
    expect(version).toBe(writers);
    expect(events.map((event) => event.streamVersion)).toEqual(Array.from({ length: writers }, (_, index) => index + 1));
    expect(new Set(events.map((event) => (event.data as { amount: number }).amount)).size).toBe(writers);
    const [snapshot]: { version: number; state: unknown }[] = await dataSource.query(`SELECT version, state FROM stream_snapshots WHERE stream_id = 'ledger-r5'`);
    expect(snapshot.version).toBeGreaterThanOrEqual(10);
    expect(ledgerCodec.decode(snapshot.state)).toEqual(fold(ledger, events.slice(0, snapshot.version) as unknown as LedgerEvent[]));
    expect((await handler.load(ledger, 'ledger-r5')).state).toEqual(fold(ledger, events as unknown as LedgerEvent[]));
  });

  it('a deciding caller may pass the stream it loaded; a stale one is retried on the fresh stream, never a lost update', async () => {
    await record('ledger-stale', 1);
    const stale = await handler.load(ledger, 'ledger-stale');
    await record('ledger-stale', 2);
    const result = await handler.handle(ledger, { type: 'Record', userId: 'user-1', amount: 3, at: new Date() }, { ...context('ledger-stale'), loaded: stale });
    expect(result.version).toBe(3);
    expect(result.state.balance).toBe(6);
  });

  it('S1/S12 pattern: of 20 parallel appends guarded by the same conditional update exactly one is stored, with its effects', async () => {
    await dataSource.query(`INSERT INTO guard_rows (id) VALUES ('code-1')`);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) =>
        handler.handle(ledger, { type: 'Record', userId: 'user-1', amount: index, at: new Date() }, {
          ...context('ledger-guarded'),
          writes: () => [
            { sql: `UPDATE guard_rows SET used_by = $2 WHERE id = $1 AND used_by IS NULL AND ${GATE}`, params: ['code-1', `writer-${index}`], guard: true },
            { sql: `INSERT INTO effects (stream_id, note) SELECT $1, $2 WHERE ${GATE}`, params: ['ledger-guarded', `writer-${index}`] },
          ],
        }),
      ),
    );
    const stored = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(stored).toHaveLength(1);
    for (const outcome of outcomes.filter((candidate) => candidate.status === 'rejected')) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(AppendGuardFailed);
    const [{ used_by: winner }] = await dataSource.query(`SELECT used_by FROM guard_rows WHERE id = 'code-1'`);
    expect(await dataSource.query(`SELECT note FROM effects WHERE stream_id = 'ledger-guarded'`)).toEqual([{ note: winner }]);
    expect((await store.readStream('ledger-guarded')).version).toBe(1);
  });

  it('writes of an append refused for its version are not applied, guards included', async () => {
    await record('ledger-version', 1);
    await dataSource.query(`INSERT INTO guard_rows (id) VALUES ('code-2')`);
    const appendAt = (expectedVersion: number) =>
      store.appendWith('ledger-version', expectedVersion, [{ type: 'LedgerEntryRecorded', data: { userId: 'user-1', amount: 9, at: new Date().toISOString() } }], { partitionKey: 'user-1', metadata, now: new Date() }, {
        writes: [
          { sql: `UPDATE guard_rows SET used_by = 'stale' WHERE id = $1 AND used_by IS NULL AND ${GATE}`, params: ['code-2'], guard: true },
          { sql: `INSERT INTO effects (stream_id, note) SELECT 'ledger-version', 'stale' WHERE ${GATE}`, params: [] },
        ],
      });
    await expect(appendAt(0)).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(appendAt(7)).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await dataSource.query(`SELECT used_by FROM guard_rows WHERE id = 'code-2'`)).toEqual([{ used_by: null }]);
    expect(await dataSource.query(`SELECT note FROM effects WHERE stream_id = 'ledger-version'`)).toEqual([]);
    expect((await store.readStream('ledger-version')).version).toBe(1);
  });

  it('an inline projection that says its update as statements joins the append; one that cannot falls back to a transaction', async () => {
    await dataSource.query(`CREATE TABLE balances (stream_id TEXT PRIMARY KEY, balance INT NOT NULL)`);
    const projection: InlineProjection = {
      name: 'balances',
      apply: async (events, manager) => {
        for (const event of events) {
          const amount = (event.data as { amount: number }).amount;
          if (amount === 13) throw new Error('projection refuses 13');
          await manager.query(`INSERT INTO balances VALUES ($1, $2) ON CONFLICT (stream_id) DO UPDATE SET balance = balances.balance + EXCLUDED.balance`, [event.streamId, amount]);
        }
      },
      // Odd amounts go through `apply` (in a transaction), even ones join the append's statement.
      statements: (events) =>
        events.some((event) => (event.data as { amount: number }).amount % 2 === 1)
          ? null
          : events.map((event) => ({
              sql: `INSERT INTO balances SELECT $1, $2 WHERE ${GATE} ON CONFLICT (stream_id) DO UPDATE SET balance = balances.balance + EXCLUDED.balance`,
              params: [event.streamId, (event.data as { amount: number }).amount],
            })),
    };
    const projected = new CommandHandler(new PostgresEventStore(dataSource, registry(), [projection]));
    const run = (amount: number) => projected.handle(ledger, { type: 'Record', userId: 'user-1', amount, at: new Date() }, context('ledger-projected'));
    await run(2);
    await run(3);
    await run(4);
    await expect(run(13)).rejects.toThrow('projection refuses 13');
    expect(await dataSource.query(`SELECT balance FROM balances WHERE stream_id = 'ledger-projected'`)).toEqual([{ balance: 9 }]);
    expect((await store.readStream('ledger-projected')).version).toBe(3);
  });
});
