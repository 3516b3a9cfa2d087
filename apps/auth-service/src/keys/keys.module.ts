import { Module } from '@nestjs/common';
import { KeyRotationController } from './key-rotation.controller';

@Module({ controllers: [KeyRotationController] })
export class KeysModule {}
