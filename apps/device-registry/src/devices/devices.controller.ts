import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Idempotent } from '@tessera/event-store';
import { ApiZodBody, ApiZodQuery, CurrentPrincipal, type Principal, ZodPipe } from '@tessera/platform';
import type { z } from 'zod';
import { CallerBearer } from '../common/access';
import { ApiErrors, ApiZodResponse } from '../common/openapi';
import { STEP_UP_HEADER } from '../registry/step-up.verifier';
import {
  deviceListResponseSchema,
  deviceParamsSchema,
  deviceResponseSchema,
  listDevicesQuerySchema,
  registerDeviceSchema,
  renameDeviceSchema,
  reportLostSchema,
  revokeDeviceSchema,
  revokeResponseSchema,
  userParamsSchema,
} from './devices.schemas';
import { DevicesService } from './devices.service';

const COMMON_ERRORS = {
  400: 'invalid_request (with per-field details), malformed_json, body_too_deep',
  401: 'unauthenticated',
  403: 'forbidden',
};

@ApiTags('devices')
@ApiBearerAuth()
@Controller('v1')
export class DevicesController {
  constructor(@Inject(DevicesService) private readonly devices: DevicesService) {}

  @Get('users/:userId/devices')
  @ApiOperation({ summary: "A user's devices with their factors, status and last use (the user, helpdesk, security officers, admins)" })
  @ApiParam({ name: 'userId' })
  @ApiZodQuery(listDevicesQuerySchema)
  @ApiZodResponse(200, deviceListResponseSchema, 'The devices, oldest first')
  @ApiErrors(COMMON_ERRORS)
  list(
    @CurrentPrincipal() principal: Principal,
    @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>,
    @Query(new ZodPipe(listDevicesQuerySchema)) query: z.infer<typeof listDevicesQuerySchema>,
  ) {
    return this.devices.list(principal, params.userId, query.status);
  }

  @Post('users/:userId/devices')
  @Idempotent()
  @ApiOperation({
    summary: 'Register a device explicitly (devices are also registered by themselves when a factor is bound)',
    description: 'Credentials named must be current credentials of this account as auth-service reported them; one device holds a credential.',
  })
  @ApiParam({ name: 'userId' })
  @ApiZodBody(registerDeviceSchema)
  @ApiZodResponse(201, deviceResponseSchema, 'The device, registered')
  @ApiErrors({ ...COMMON_ERRORS, 409: 'credential_already_bound, too_many_devices', 422: 'unknown_credential, credential_not_bindable, invalid_device_name' })
  register(
    @CurrentPrincipal() principal: Principal,
    @Param(new ZodPipe(userParamsSchema)) params: z.infer<typeof userParamsSchema>,
    @Body(new ZodPipe(registerDeviceSchema)) body: z.infer<typeof registerDeviceSchema>,
  ) {
    return this.devices.register(principal, params.userId, body);
  }

  @Get('devices/:deviceId')
  @ApiOperation({ summary: 'One device' })
  @ApiParam({ name: 'deviceId', format: 'uuid' })
  @ApiZodResponse(200, deviceResponseSchema, 'The device')
  @ApiErrors({ ...COMMON_ERRORS, 404: 'device_not_found (also for a device of another account)' })
  get(@CurrentPrincipal() principal: Principal, @Param(new ZodPipe(deviceParamsSchema)) params: z.infer<typeof deviceParamsSchema>) {
    return this.devices.get(principal, params.deviceId);
  }

  @Patch('devices/:deviceId')
  @Idempotent()
  @ApiOperation({ summary: 'Rename a device' })
  @ApiParam({ name: 'deviceId', format: 'uuid' })
  @ApiZodBody(renameDeviceSchema)
  @ApiZodResponse(200, deviceResponseSchema, 'The device, renamed')
  @ApiErrors({ ...COMMON_ERRORS, 404: 'device_not_found', 409: 'device_revoked, concurrent_modification', 422: 'invalid_device_name' })
  rename(
    @CurrentPrincipal() principal: Principal,
    @Param(new ZodPipe(deviceParamsSchema)) params: z.infer<typeof deviceParamsSchema>,
    @Body(new ZodPipe(renameDeviceSchema)) body: z.infer<typeof renameDeviceSchema>,
  ) {
    return this.devices.rename(principal, params.deviceId, body.name);
  }

  @Post('devices/:deviceId/report-lost')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Report a device lost or stolen',
    description: 'Its credentials keep working until it is revoked; a use of it from now on raises DeviceUsed with whileReportedLost.',
  })
  @ApiParam({ name: 'deviceId', format: 'uuid' })
  @ApiZodBody(reportLostSchema)
  @ApiZodResponse(200, deviceResponseSchema, 'The device, now lost (reporting again changes nothing, except lost → stolen)')
  @ApiErrors({ ...COMMON_ERRORS, 404: 'device_not_found', 409: 'device_revoked' })
  reportLost(
    @CurrentPrincipal() principal: Principal,
    @Param(new ZodPipe(deviceParamsSchema)) params: z.infer<typeof deviceParamsSchema>,
    @Body(new ZodPipe(reportLostSchema)) body: z.infer<typeof reportLostSchema>,
  ) {
    return this.devices.reportLost(principal, params.deviceId, body.reason);
  }

  @Post('devices/:deviceId/revoke')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Revoke a device and every credential on it (S23)',
    description:
      'Each credential is revoked in auth-service (gRPC RevokeCredential, in force when it returns) before this answers 200, ' +
      'so from then on none of them verifies. The user revokes their own device with a recent step-up and no body; the ' +
      'security team and the recovery workflow name the recovery or incident (`reason`, `referenceId`). The last usable factor is kept unless inside a recovery (S24).',
  })
  @ApiParam({ name: 'deviceId', format: 'uuid' })
  @ApiHeader({ name: STEP_UP_HEADER, required: false, description: "auth-service's step-up assertion (required when the user revokes their own device)" })
  @ApiZodBody(revokeDeviceSchema)
  @ApiZodResponse(200, revokeResponseSchema, 'The device, revoked, and the credentials revoked with it')
  @ApiErrors({
    ...COMMON_ERRORS,
    401: 'unauthenticated, step_up_required, step_up_insufficient, step_up_already_used',
    403: 'forbidden, step_up_wrong_user, or auth-service refusals such as account_frozen',
    404: 'device_not_found',
    409: 'last_factor (S24), concurrent_modification',
    422: 'revocation_context_required',
    503: 'auth_service_unavailable: nothing recorded, retry',
  })
  revoke(
    @CurrentPrincipal() principal: Principal,
    @Param(new ZodPipe(deviceParamsSchema)) params: z.infer<typeof deviceParamsSchema>,
    @Body(new ZodPipe(revokeDeviceSchema)) body: z.infer<typeof revokeDeviceSchema>,
    @Headers(STEP_UP_HEADER) stepUp: string | undefined,
    @CallerBearer() bearerToken: string,
  ) {
    return this.devices.revoke(principal, params.deviceId, body, { bearerToken, stepUpAssertion: stepUp });
  }
}

