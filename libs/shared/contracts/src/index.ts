export * from './lib/envelope';
export * from './lib/topics';
export * from './lib/auth/events';
export * from './lib/devices/events';
export * from './lib/recovery/events';
export * from './lib/registry';
export * from './lib/tessera-events';
export * from './lib/proto';
