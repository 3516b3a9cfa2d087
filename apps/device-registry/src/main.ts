import 'reflect-metadata';
import { runServiceProcess } from '@tessera/platform';
import { DeviceRegistryDefinition } from './service';

void runServiceProcess(DeviceRegistryDefinition);
