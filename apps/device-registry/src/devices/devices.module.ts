import { Module } from '@nestjs/common';
import { VaultModule } from '../vault/vault.module';
import { DevicesController } from './devices.controller';
import { DevicesGrpcController } from './devices.grpc.controller';
import { DevicesService } from './devices.service';

/** The device-management API (REST under /v1 and gRPC DeviceRegistry) for users, staff and services. */
@Module({
  imports: [VaultModule],
  controllers: [DevicesController, DevicesGrpcController],
  providers: [DevicesService],
})
export class DevicesModule {}
