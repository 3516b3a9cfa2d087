import { Module } from '@nestjs/common';
import { ReadinessController } from './readiness.controller';

/** Recovery readiness per user (findings, level, backup methods); the drop event comes from ReadinessAssessor. */
@Module({
  controllers: [ReadinessController],
})
export class ReadinessModule {}
