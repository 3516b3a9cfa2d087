export * from './lib/clock';
export * from './lib/uuidv7';
