/**
 * Kafka administration for the local platform:
 *   ready          — waits until the broker answers an admin call (describeCluster)
 *   create-topics  — creates every topic in libs/shared/contracts/src/lib/topics.ts that is missing
 *                    and brings the config of existing ones in line (idempotent)
 * Usage: node -r @swc-node/register infra/local/scripts/kafka-admin.ts <ready|create-topics> [timeoutSeconds]
 */
import { Kafka, logLevel } from 'kafkajs';
import { TOPIC_DECLARATIONS } from '../../../libs/shared/contracts/src/lib/topics';

const brokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.TESSERA_KAFKA_PORT ?? 59092}`).split(',');
const kafka = new Kafka({ clientId: 'tessera-infra', brokers, logLevel: logLevel.NOTHING, connectionTimeout: 1_000, retry: { retries: 0 } });

async function ready(timeoutSeconds: number): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let lastError = '';
  while (Date.now() < deadline) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`Kafka at ${brokers.join(',')} did not answer an admin call within ${timeoutSeconds} s (${lastError})`);
}

async function createTopics(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = TOPIC_DECLARATIONS.filter((topic) => !existing.has(topic.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic: topic.name,
          numPartitions: topic.partitions,
          replicationFactor: 1,
          configEntries: Object.entries(topic.config).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    const present = TOPIC_DECLARATIONS.filter((topic) => existing.has(topic.name));
    if (present.length > 0) {
      // RESOURCE_TYPE 2 = topic. Re-applying the declared config keeps retention/compaction as declared.
      await admin.alterConfigs({
        validateOnly: false,
        resources: present.map((topic) => ({
          type: 2,
          name: topic.name,
          configEntries: Object.entries(topic.config).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    process.stdout.write(`topics: ${missing.length} created, ${present.length} already present\n`);
  } finally {
    await admin.disconnect();
  }
}

const [command, timeout] = process.argv.slice(2);
const run = command === 'ready' ? ready(Number(timeout ?? 60)) : command === 'create-topics' ? createTopics() : Promise.reject(new Error(`unknown command '${command}' (ready | create-topics)`));
run.then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
