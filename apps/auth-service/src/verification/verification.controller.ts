import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { Idempotent } from '@tessera/event-store';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiError, ApiZodBody, CurrentPrincipal, hasRole, type Principal, ZodPipe } from '@tessera/platform';
import type { Clock } from '@tessera/util';
import type { Request } from 'express';
import { z } from 'zod';
import { actorOf } from '../common/actor';
import { ApiErrors } from '../common/openapi';
import { userIdSchema } from '../common/schemas';
import { CLOCK } from '../common/tokens';
import { VERIFY_METHODS } from '../methods/method-verifier';
import { OutOfBandService } from '../methods/out-of-band/out-of-band.service';
import { WebAuthnService } from '../methods/webauthn/webauthn.service';
import { VerificationService } from './verification.service';

/** The scope of a service (the IdP, another Tessera service) that verifies on a user's behalf. */
export const VERIFY_SCOPE = 'factors:verify';

const clientAddressSchema = z.string().min(2).max(64).regex(/^[0-9A-Fa-f.:]+$/, 'must be an IP address');
const proofSchema = z.record(z.string(), z.unknown());

export const verifySchema = z
  .object({ userId: userIdSchema, method: z.enum(VERIFY_METHODS), proof: proofSchema, clientAddress: clientAddressSchema.optional() })
  .strict();
export const stepUpSchema = z.object({ method: z.enum(VERIFY_METHODS), proof: proofSchema }).strict();
export const challengeSchema = z.object({ userId: userIdSchema }).strict();
export const sendCodeSchema = z
  .object({ userId: userIdSchema, method: z.enum(['email_otp', 'sms_otp']), credentialId: z.uuid().optional() })
  .strict();

/**
 * A service with `factors:verify` verifies for any user and reports the end user's address; a person
 * verifies only for themself, from the address the connection comes from.
 */
function callerFor(principal: Principal, userId: string, request: Request, reported?: string): string {
  if (principal.scopes.includes(VERIFY_SCOPE)) return reported ?? request.ip ?? 'unknown';
  if (principal.subject === userId && hasRole(principal, 'user')) return request.ip ?? 'unknown';
  throw new ApiError(403, 'forbidden', `This needs the scope ${VERIFY_SCOPE}, or to be the user.`);
}

@ApiTags('verification')
@Controller('v1')
export class VerificationController {
  constructor(
    @Inject(VerificationService) private readonly verification: VerificationService,
    @Inject(WebAuthnService) private readonly webAuthn: WebAuthnService,
    @Inject(OutOfBandService) private readonly outOfBand: OutOfBandService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('verify')
  @HttpCode(200)
  // The answer is a step-up assertion, a bearer credential: never stored, never replayed.
  @Idempotent({ secretResponse: true })
  @ApiOperation({
    summary: 'Verify(user, method, proof): the method, the assurance level and a signed step-up assertion',
    description:
      'Methods: totp {code}, webauthn {challengeId, response}, backup_code {code}, email_otp / sms_otp {code, credentialId?}, ' +
      'temporary_access_pass {code}. The assertion is an ES256 JWT (RFC 8176 amr, short lifetime, unique jti), checked offline ' +
      'with /.well-known/jwks.json. 422 verification_failed on a wrong proof; 429 when throttled (S8, S9).',
  })
  @ApiZodBody(verifySchema)
  @ApiOkResponse({ description: '{ method, credentialId, assuranceLevel, amr, stepUpAssertion, expiresAt }' })
  @ApiErrors(403, 404, 409, 422, 429)
  async verify(@Body(new ZodPipe(verifySchema)) body: z.infer<typeof verifySchema>, @CurrentPrincipal() principal: Principal, @Req() request: Request) {
    const clientAddress = callerFor(principal, body.userId, request, body.clientAddress);
    return this.verification.verify({ ...body, clientAddress, actor: actorOf(principal), now: this.clock.now() });
  }

  @Post('step-up')
  @HttpCode(200)
  @Idempotent({ secretResponse: true })
  @ApiOperation({ summary: 'Step up the signed-in user: verify one of their factors and get a step-up assertion' })
  @ApiZodBody(stepUpSchema)
  @ApiOkResponse({ description: '{ method, credentialId, assuranceLevel, amr, stepUpAssertion, expiresAt }' })
  @ApiErrors(403, 422, 429)
  async stepUp(@Body(new ZodPipe(stepUpSchema)) body: z.infer<typeof stepUpSchema>, @CurrentPrincipal() principal: Principal, @Req() request: Request) {
    const clientAddress = callerFor(principal, principal.subject, request);
    return this.verification.verify({ userId: principal.subject, ...body, clientAddress, actor: actorOf(principal), now: this.clock.now() });
  }

  @Post('verify/webauthn-challenges')
  @HttpCode(200)
  @Idempotent()
  @ApiOperation({ summary: "WebAuthn authentication options for a user's passkeys and security keys (challenge: 256 bits, 60 s, single use)" })
  @ApiZodBody(challengeSchema)
  @ApiOkResponse({ description: '{ challengeId, expiresAt, options }' })
  @ApiErrors(403, 404)
  async webAuthnChallenge(@Body(new ZodPipe(challengeSchema)) body: z.infer<typeof challengeSchema>, @CurrentPrincipal() principal: Principal, @Req() request: Request) {
    callerFor(principal, body.userId, request);
    return this.webAuthn.authenticationOptions(body.userId, this.clock.now());
  }

  @Post('verify/codes')
  @HttpCode(202)
  // A retry must not send the user a second message.
  @Idempotent()
  @ApiOperation({ summary: "Send a one-time code to the user's email address or phone (restricted factors, S7)" })
  @ApiZodBody(sendCodeSchema)
  @ApiOkResponse({ description: '{ credentialId, codeId, expiresAt }' })
  @ApiErrors(403, 404, 422, 429)
  async sendCode(@Body(new ZodPipe(sendCodeSchema)) body: z.infer<typeof sendCodeSchema>, @CurrentPrincipal() principal: Principal, @Req() request: Request) {
    callerFor(principal, body.userId, request);
    return this.outOfBand.sendCode(body.userId, body.method, body.credentialId, this.clock.now());
  }
}
