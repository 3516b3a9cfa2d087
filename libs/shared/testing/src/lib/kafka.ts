import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { testInfra } from './infra';

const run = promisify(execFile);

export function kafkaBrokers(): string[] {
  return [`127.0.0.1:${testInfra().kafkaPort}`];
}

/** A kafkajs client for tests, quiet, pointed at `brokers` (the platform's broker by default). */
export function testKafka(clientId: string, brokers = kafkaBrokers()): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2_000 } });
}

export function uniqueName(prefix: string): string {
  return `${prefix}.${randomBytes(4).toString('hex')}`;
}

/** Creates topics for one test (auto-creation is off on the platform's broker, as in production). */
export async function createTopics(kafka: Kafka, topics: readonly string[], partitions = 3): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
  } finally {
    await admin.disconnect();
  }
}

/** Reads every message of `topic` until `count` have arrived or `timeoutMs` passes. */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000) {
  const consumer = kafka.consumer({ groupId: uniqueName('test-reader') });
  const messages: { key: string | null; value: Buffer | null; headers: Record<string, string>; partition: number }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([key, value]) => [key, String(value)]));
      messages.push({ key: message.key?.toString() ?? null, value: message.value, headers, partition });
      if (messages.length >= count) done();
    },
  });
  const timer = setTimeout(done, timeoutMs);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return messages;
}

/**
 * A Kafka broker of its own, started with the project's infra/local/lib/kafka.sh, for tests that stop
 * and start the broker on purpose without disturbing the shared one.
 */
export class DedicatedKafka {
  private readonly dir = mkdtempSync(join(tmpdir(), 'tessera-kafka-'));
  readonly port: number;
  readonly controllerPort: number;

  constructor(portOffset: number) {
    this.port = 59200 + portOffset * 2;
    this.controllerPort = this.port + 1;
  }

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  async start(): Promise<void> {
    await this.script(`kafka_start ${this.dir} ${this.port} ${this.controllerPort}`);
    await this.waitReady();
  }

  async stop(): Promise<void> {
    await this.script(`kafka_stop ${this.dir}`);
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async script(command: string): Promise<void> {
    const root = testInfra().root;
    await run('bash', ['-c', `source infra/local/lib/common.sh && source infra/local/lib/kafka.sh && ${command}`], { cwd: root });
  }

  // A JVM starting beside a whole test suite on two cores can take a while: wait up to 3 minutes.
  private async waitReady(timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const kafka = new Kafka({ clientId: 'dedicated-ready', brokers: this.brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1_000 });
    while (Date.now() < deadline) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        if ((await admin.describeCluster()).brokers.length > 0) return;
      } catch {
        // not up yet
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    throw new Error(`dedicated Kafka on port ${this.port} did not start within ${timeoutMs} ms`);
  }
}

/** Polls `condition` until it is true or `timeoutMs` passes (for effects that arrive through Kafka). */
export async function eventually(condition: () => Promise<boolean>, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
