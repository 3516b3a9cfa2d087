// Integration events published on the recovery topic: zod schemas for `data`, one per event type.
export {};
