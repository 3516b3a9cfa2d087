// Integration events published on the devices topic: zod schemas for `data`, one per event type.
export {};
