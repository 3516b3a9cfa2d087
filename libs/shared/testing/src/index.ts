export * from './lib/decider-spec';
export * from "./lib/infra";
