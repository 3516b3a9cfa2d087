export * from './lib/command-handler';
export * from './lib/errors';
export * from './lib/event-store';
export * from './lib/idempotent-consumer';
export * from './lib/outbox-relay';
export * from './lib/schema.migration';
export * from './lib/nest/event-sourcing.module';
