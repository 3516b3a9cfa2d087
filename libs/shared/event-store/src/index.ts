export * from './lib/schema.migration';
