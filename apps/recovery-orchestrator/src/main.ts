import 'reflect-metadata';
import { runServiceProcess } from '@tessera/platform';
import { RecoveryOrchestratorDefinition } from './service';

void runServiceProcess(RecoveryOrchestratorDefinition);
