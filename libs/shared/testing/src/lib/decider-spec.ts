import { type Decider, DomainError, fold } from '@tessera/event-sourcing';

/**
 * Given events / When command / Then events-or-error, for pure deciders (STYLE.md, after Emmett's
 * DeciderSpecification). Usage:
 *
 *   const spec = deciderSpec(recoveryDecider);
 *   spec.given([requested]).when(approve).then([approved]);
 *   spec.given([]).when(approve).thenThrows('recovery_not_found');
 */
export function deciderSpec<C, E, S>(decider: Decider<C, E, S>) {
  return {
    given(events: readonly E[]) {
      return {
        when(command: C) {
          const run = () => decider.decide(command, fold(decider, events));
          return {
            then(expected: readonly E[]): void {
              expect(run()).toEqual(expected);
            },
            thenThrows(code: string): void {
              let caught: unknown;
              try {
                run();
              } catch (error) {
                caught = error;
              }
              expect(caught).toBeInstanceOf(DomainError);
              expect((caught as DomainError).code).toBe(code);
            },
            /** For assertions beyond equality (e.g. an event whose id was generated). */
            thenEvents(): readonly E[] {
              return run();
            },
          };
        },
      };
    },
  };
}
