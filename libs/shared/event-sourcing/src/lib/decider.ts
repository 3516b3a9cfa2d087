/**
 * The decider shape (after Emmett and Jérémie Chassaing's "functional event sourcing"):
 * `decide` turns a command and the current state into new events, `evolve` folds one event into
 * the state. Both are pure: time, ids and randomness arrive in the command's metadata.
 */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): readonly Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** Rebuilds a state from its events. */
export function fold<Event, State>(decider: Pick<Decider<unknown, Event, State>, 'evolve' | 'initialState'>, events: readonly Event[]): State {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState());
}

/**
 * A rule said no. Deciders throw it with a machine-readable code; adapters turn it into a 4xx
 * (HTTP 409/422/403 by `kind`) or a gRPC status, never a 500.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly kind: 'conflict' | 'invalid' | 'forbidden' | 'not_found' | 'throttled' = 'conflict',
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** Exhaustiveness check at the end of a `switch` over a discriminated union. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
