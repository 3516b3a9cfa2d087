import { Kafka, type KafkaConfig, type LogEntry, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import type { ReadinessCheck } from '../health/readiness';

// kafkajs prints a warning about its v2 partitioner change on every producer; Tessera sets the
// partitioner explicitly where it produces, so the notice is noise.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose log lines go through the service's JSON logger. */
export function createKafka(options: { brokers: string[]; clientId: string; logger: Logger }): Kafka {
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      options.logger[LEVELS[entry.level] ?? 'info']({ kafka: { namespace: entry.namespace, ...rest } }, message);
    },
  };
  return new Kafka(config);
}

/**
 * Readiness asks the broker for its cluster description through a short-lived admin connection with
 * no retries, so a stopped broker turns the check red within the readiness timeout and a restarted
 * one turns it green on the next probe.
 */
export function kafkaReadiness(options: { brokers: string[]; clientId: string; logger: Logger }): ReadinessCheck {
  const kafka = new Kafka({
    clientId: `${options.clientId}-readiness`,
    brokers: options.brokers,
    connectionTimeout: 1_000,
    requestTimeout: 1_500,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  return {
    name: 'kafka',
    check: async () => {
      const admin = kafka.admin({ retry: { retries: 0 } });
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('no brokers in the cluster description');
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
  };
}
