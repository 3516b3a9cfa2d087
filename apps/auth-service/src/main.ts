import 'reflect-metadata';
import { runServiceProcess } from '@tessera/platform';
import { AuthServiceDefinition } from './service';

void runServiceProcess(AuthServiceDefinition);
