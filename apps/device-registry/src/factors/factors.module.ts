import { Module } from '@nestjs/common';
import { AuthEventsConsumer } from './auth-events.consumer';

/** auth-service's events → devices, bound credentials, last use and the facts readiness needs. */
@Module({
  providers: [AuthEventsConsumer],
  exports: [AuthEventsConsumer],
})
export class FactorsModule {}
