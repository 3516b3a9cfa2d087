// Integration events published on the auth topic: zod schemas for `data`, one per event type.
export {};
