import { Inject, Injectable } from '@nestjs/common';
import { type BoundCredential, type DeviceFactorKind } from '@tessera/contracts';
import {
  type AaguidCatalog,
  type DeviceCommand,
  type RevocationContext,
  devicesDecider,
  usableFactorsOutsideDevices,
} from '@tessera/device-domain';
import { ApiError, DATA_SOURCE, LOGGER, type Principal, currentCorrelationId } from '@tessera/platform';
import { type Clock, uuidv7 } from '@tessera/util';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { type DeviceAction, assertMay, deviceNotFound, isSelf, may, mayForOthers, requestMetadata } from '../common/access';
import { AAGUID_CATALOG, CLOCK, CREDENTIAL_REVOKER, STEP_UP_VERIFIER } from '../common/tokens';
import { CredentialFactsRepository } from '../registry/credential-facts.repository';
import { DeviceCommands } from '../registry/device-commands';
import { RegistryMetrics } from '../registry/registry-metrics';
import { type DeviceStatus, type DeviceView, DeviceViewsRepository } from '../registry/device-views.repository';
import { type StepUpVerifier, consumeStepUp } from '../registry/step-up.verifier';
import {
  type CredentialRevoker,
  CredentialRevocationRefused,
  CredentialRevocationUnavailable,
  type RevocationAuthority,
} from '../revocation/credential-revoker.port';
import { presentDevice } from './device.presenter';
import { type DeviceResponse, type RegisterDeviceBody, type RevokeDeviceBody } from './devices.schemas';

/** What the caller presented: their own bearer token, and a step-up when they revoke their own device. */
export interface CallerCredentials {
  readonly bearerToken: string;
  readonly stepUpAssertion?: string;
}

export interface RevokeResult {
  readonly device: DeviceResponse;
  readonly revokedCredentialIds: readonly string[];
  readonly alreadyRevoked: boolean;
}

/**
 * The device use cases behind the REST and gRPC adapters: who may act (common/access.ts), then the
 * devices decider through DeviceCommands. Revocation also drives auth-service (S23).
 */
@Injectable()
export class DevicesService {
  constructor(
    @Inject(DeviceViewsRepository) private readonly views: DeviceViewsRepository,
    @Inject(CredentialFactsRepository) private readonly facts: CredentialFactsRepository,
    @Inject(DeviceCommands) private readonly commands: DeviceCommands,
    @Inject(CREDENTIAL_REVOKER) private readonly revoker: CredentialRevoker,
    @Inject(STEP_UP_VERIFIER) private readonly stepUp: StepUpVerifier,
    @Inject(AAGUID_CATALOG) private readonly catalog: AaguidCatalog,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(RegistryMetrics) private readonly metrics: RegistryMetrics,
  ) {}

  async list(principal: Principal, userId: string, status?: DeviceStatus): Promise<{ userId: string; devices: DeviceResponse[] }> {
    assertMay(principal, userId, 'read');
    const views = await this.views.listByUser(userId, status);
    return { userId, devices: views.map((view) => presentDevice(view, this.catalog)) };
  }

  async get(principal: Principal, deviceId: string): Promise<DeviceResponse> {
    return presentDevice(await this.deviceFor(principal, deviceId, 'read'), this.catalog);
  }

  /**
   * Explicit registration (devices are also registered by themselves when a factor is bound, see
   * AuthEventsConsumer). Credentials named must be the user's own, as auth-service's events reported
   * them: a credential of another account is answered exactly like one that does not exist.
   */
  async register(principal: Principal, userId: string, body: RegisterDeviceBody): Promise<DeviceResponse> {
    assertMay(principal, userId, 'register');
    const facts = await this.facts.listByUser(userId);
    const credentials: BoundCredential[] = body.credentialIds.map((credentialId) => {
      const fact = facts.find((candidate) => candidate.credentialId === credentialId);
      if (!fact || fact.status === 'revoked') {
        throw new ApiError(422, 'unknown_credential', `Credential ${credentialId} is not a current credential of this account.`);
      }
      if (fact.kind === 'backup_codes') throw new ApiError(422, 'credential_not_bindable', 'Backup codes are not held by a device.');
      return { credentialId, factor: fact.kind as DeviceFactorKind };
    });
    const webAuthnAaguid = facts.find((fact) => body.credentialIds.includes(fact.credentialId) && fact.aaguid)?.aaguid ?? null;
    const now = this.clock.now();
    const deviceId = uuidv7(now.getTime());
    await this.commands.execute(
      {
        type: 'RegisterDevice',
        data: { userId, deviceId, kind: body.kind, name: body.name, credentials, aaguid: body.aaguid ?? webAuthnAaguid },
        metadata: { now },
      },
      requestMetadata(principal, userId),
    );
    return this.present(deviceId);
  }

  async rename(principal: Principal, deviceId: string, name: string): Promise<DeviceResponse> {
    const device = await this.deviceFor(principal, deviceId, 'rename');
    await this.run(principal, { type: 'RenameDevice', data: { userId: device.userId, deviceId, name }, metadata: { now: this.clock.now() } });
    return this.present(deviceId);
  }

  async reportLost(principal: Principal, deviceId: string, reason: 'lost' | 'stolen'): Promise<DeviceResponse> {
    const device = await this.deviceFor(principal, deviceId, 'report-lost');
    await this.run(principal, { type: 'ReportDeviceLost', data: { userId: device.userId, deviceId, reason }, metadata: { now: this.clock.now() } });
    return this.present(deviceId);
  }

  /**
   * S23: every credential on the device is revoked in auth-service — whose revocation holds before it
   * returns (REST DELETE for the user's own removal, gRPC RevokeCredential for a recovery or incident)
   * — before `DeviceRevoked` is recorded and before this method returns. So when the caller sees
   * success, none of the device's credentials verifies any more. If auth-service cannot be reached,
   * nothing is recorded here and the caller gets a 503; a retry is safe (each call carries the same
   * idempotency key per credential) and finishes the job.
   *
   * S24 is decided on the stream's state before auth-service is called, under the user's lock held
   * until the revocation is recorded, so a refused revocation leaves every credential working and two
   * racing revocations cannot both take the user's last factors. auth-service checks S24 again on its
   * own facts for the user's own removals.
   */
  async revoke(principal: Principal, deviceId: string, body: RevokeDeviceBody, caller: CallerCredentials): Promise<RevokeResult> {
    const device = await this.deviceFor(principal, deviceId, 'revoke');
    const { userId } = device;
    const now = this.clock.now();
    let context: RevocationContext;
    let authority: RevocationAuthority;
    if (body.reason && body.referenceId) {
      if (!mayForOthers(principal, 'revoke')) {
        throw new ApiError(403, 'forbidden', 'Only the security team and the recovery workflow revoke inside a recovery or an incident.');
      }
      context = authority = body.reason === 'recovery' ? { kind: 'recovery', recoveryId: body.referenceId } : { kind: 'incident', incidentId: body.referenceId };
    } else if (isSelf(principal, userId)) {
      const stepUp = await this.stepUp.verify(caller.stepUpAssertion, userId, now);
      // One assertion revokes one device (retries of that revocation included).
      await this.dataSource.transaction((manager) => consumeStepUp(manager, stepUp, 'device-revoke', deviceId, now));
      context = { kind: 'self_service' };
      // The user's own request, with their own token and step-up, so auth-service judges it as theirs.
      authority = { kind: 'user', bearerToken: caller.bearerToken, stepUpAssertion: caller.stepUpAssertion as string };
    } else {
      throw new ApiError(422, 'revocation_context_required', 'Staff and services revoke inside a recovery or an incident: name it with `reason` and `referenceId`.');
    }

    const metadata = requestMetadata(principal, userId);
    return this.commands.withUserLock(userId, async (locked) => {
      // Under the user's lock: no other revocation can change the S24 answer before this one is recorded.
      const state = await locked.load();
      const command: DeviceCommand = {
        type: 'RevokeDevice',
        data: { userId, deviceId, context, usableFactorsOutsideDevices: usableFactorsOutsideDevices(state, await this.facts.listByUser(userId, locked.manager)) },
        metadata: { now },
      };
      // Decide first, change nothing: a revocation S24 forbids must not revoke any credential.
      const planned = devicesDecider.decide(command, state);
      const current = state.status === 'tracked' ? state.devices[deviceId] : undefined;
      const credentialIds =
        planned[0]?.type === 'DeviceRevoked' ? planned[0].data.credentialIds : (current?.credentials ?? []).map((credential) => credential.credentialId);
      try {
        await this.revokeCredentials(userId, deviceId, credentialIds, authority);
      } catch (error) {
        this.metrics.revocations.inc({ authority: authority.kind, outcome: (error as ApiError).status === 503 ? 'unavailable' : 'refused' });
        throw error;
      }
      if (planned.length > 0) {
        await locked.execute(command, metadata);
        this.logger.info({ userId, deviceId, credentials: credentialIds.length, context: context.kind }, 'device revoked');
      }
      this.metrics.revocations.inc({ authority: authority.kind, outcome: planned.length > 0 ? 'revoked' : 'already_revoked' });
      return { device: await this.present(deviceId, locked.manager), revokedCredentialIds: credentialIds, alreadyRevoked: planned.length === 0 };
    });
  }

  private async revokeCredentials(userId: string, deviceId: string, credentialIds: readonly string[], authority: RevocationAuthority): Promise<void> {
    const correlationId = currentCorrelationId() ?? uuidv7();
    for (const credentialId of credentialIds) {
      try {
        await this.revoker.revoke({ userId, credentialId, idempotencyKey: `device-revoke:${deviceId}:${credentialId}`, authority, correlationId });
      } catch (error) {
        if (error instanceof CredentialRevocationRefused) throw new ApiError(error.status, error.code, error.message);
        if (error instanceof CredentialRevocationUnavailable) {
          this.logger.warn({ userId, deviceId, credentialId, reason: error.message }, 'credential revocation not confirmed by auth-service');
          throw new ApiError(503, 'auth_service_unavailable', 'auth-service did not confirm the revocation, so the device is not revoked yet; retry the request.');
        }
        throw error;
      }
    }
  }

  private async run(principal: Principal, command: DeviceCommand): Promise<void> {
    await this.commands.execute(command, requestMetadata(principal, command.data.userId));
  }

  /**
   * The device, if the caller may at least see it: a device of another account is "not found" (no
   * probing of ids across accounts); one the caller may see but not change is "forbidden".
   */
  private async deviceFor(principal: Principal, deviceId: string, action: DeviceAction): Promise<DeviceView> {
    const view = await this.views.get(deviceId);
    if (!view || !(may(principal, view.userId, 'read') || may(principal, view.userId, action))) throw deviceNotFound();
    if (!may(principal, view.userId, action)) throw new ApiError(403, 'forbidden', 'You may not do this to this device.');
    return view;
  }

  private async present(deviceId: string, manager?: EntityManager): Promise<DeviceResponse> {
    const view = await this.views.get(deviceId, manager);
    if (!view) throw deviceNotFound();
    return presentDevice(view, this.catalog);
  }
}
