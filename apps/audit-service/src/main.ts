import 'reflect-metadata';
import { runServiceProcess } from '@tessera/platform';
import { AuditServiceDefinition } from './service';

void runServiceProcess(AuditServiceDefinition);
