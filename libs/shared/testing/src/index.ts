export * from './lib/decider-spec';
export * from './lib/infra';
export * from './lib/kafka';
export * from './lib/postgres';
export * from './lib/service';
