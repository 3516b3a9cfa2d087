import { type AuthTestService, enrollTotp, events, newUserId, path, startAuthService, stepUpWithTotp } from './testing/auth-test-kit.spec';

/**
 * R7 on every endpoint of auth-service: bad base32, wrong types, missing and unknown fields, malformed,
 * huge and deeply nested bodies, bad path parameters, another user's resources, missing tokens and
 * wrong roles. Each answer is a 4xx with a machine-readable code, never a 5xx or a stack trace, and a
 * refused request changes nothing.
 */
describe('auth-service refuses bad input on every endpoint (R7)', () => {
  let svc: AuthTestService;
  let alice: string;
  let bob: string;
  let aliceFactor: string;
  let bobFactor: string;
  let stepUp: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    svc = await startAuthService();
    alice = newUserId('bad-alice');
    bob = newUserId('bad-bob');
    const [aliceTotp, bobTotp] = await Promise.all([enrollTotp(svc, alice), enrollTotp(svc, bob)]);
    aliceFactor = aliceTotp.factorId;
    bobFactor = bobTotp.factorId;
    stepUp = await stepUpWithTotp(svc, alice, aliceTotp);
    tokens.alice = await svc.token(alice);
    tokens.service = await svc.token('idp', ['service'], ['factors:verify']);
    tokens.helpdesk = await svc.token('helpdesk-1', ['helpdesk']);
    tokens.officer = await svc.token('officer-1', ['security-officer']);
    tokens.noScope = await svc.token('other-service', ['service'], ['devices:read']);
  });
  afterAll(async () => svc?.stop());

  interface Case {
    readonly name: string;
    readonly method: string;
    readonly path: () => string;
    readonly token?: keyof typeof tokens | null;
    /** A function when it names users made in beforeAll. */
    readonly body?: unknown;
    readonly rawBody?: string;
    readonly stepUp?: boolean;
    readonly status: number;
    readonly code: string;
  }

  const huge = { padding: 'x'.repeat(70 * 1024) };
  const deep = JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40));
  const badUser = (rest: string) => () => path('bad user id', rest);
  const uuid = '01900000-0000-7000-8000-00000000abcd';

  /** The classes every endpoint with a body is put through. */
  const bodyClasses = (base: Omit<Case, 'name' | 'status' | 'code' | 'body'>): Case[] => [
    { ...base, name: 'malformed JSON', rawBody: '{"code": ', status: 400, code: 'malformed_json' },
    { ...base, name: 'huge body', body: huge, status: 413, code: 'payload_too_large' },
    { ...base, name: 'deeply nested body', body: deep, status: 400, code: 'body_too_deep' },
    { ...base, name: 'no token', token: null, body: {}, status: 401, code: 'unauthenticated' },
  ];

  const ENDPOINTS: Record<string, Case[]> = {
    'GET /v1/users/{userId}/factors': [
      { name: 'no token', method: 'GET', path: () => path(alice, '/factors'), token: null, status: 401, code: 'unauthenticated' },
      { name: "another user's factors", method: 'GET', path: () => path(bob, '/factors'), token: 'alice', status: 403, code: 'forbidden' },
      { name: 'bad user id', method: 'GET', path: badUser('/factors'), token: 'alice', status: 400, code: 'invalid_request' },
      { name: 'unknown query parameter', method: 'GET', path: () => path(alice, '/factors?secrets=true'), token: 'alice', status: 400, code: 'invalid_request' },
      { name: 'wrong type in query', method: 'GET', path: () => path(alice, '/factors?includeRevoked=yes'), token: 'alice', status: 400, code: 'invalid_request' },
      { name: 'a service without a staff role', method: 'GET', path: () => path(alice, '/factors'), token: 'noScope', status: 403, code: 'forbidden' },
    ],
    'DELETE /v1/users/{userId}/factors/{factorId}': [
      { name: 'no token', method: 'DELETE', path: () => path(alice, `/factors/${aliceFactor}`), token: null, status: 401, code: 'unauthenticated' },
      { name: "another user's factor through one's own path", method: 'DELETE', path: () => path(alice, `/factors/${bobFactor}`), token: 'alice', stepUp: true, status: 404, code: 'credential_not_found' },
      { name: "another user's path", method: 'DELETE', path: () => path(bob, `/factors/${bobFactor}`), token: 'alice', stepUp: true, status: 403, code: 'forbidden' },
      { name: 'not a UUID', method: 'DELETE', path: () => path(alice, '/factors/not-a-uuid'), token: 'alice', stepUp: true, status: 400, code: 'invalid_request' },
      { name: 'staff cannot remove factors', method: 'DELETE', path: () => path(alice, `/factors/${aliceFactor}`), token: 'helpdesk', status: 403, code: 'forbidden' },
      // The sign-in session alone is AAL1; the account's TOTP needs an AAL2 step-up (S21).
      { name: 'no step-up', method: 'DELETE', path: () => path(alice, `/factors/${aliceFactor}`), token: 'alice', status: 403, code: 'step_up_insufficient' },
    ],
    'POST /v1/users/{userId}/factors/totp': [
      ...bodyClasses({ method: 'POST', path: () => path(alice, '/factors/totp'), token: 'alice', stepUp: true }),
      { name: 'bad base32', method: 'POST', path: () => path(alice, '/factors/totp'), token: 'alice', stepUp: true, body: { secret: 'NOT-BASE32!!' }, status: 422, code: 'invalid_base32' },
      { name: 'wrong type', method: 'POST', path: () => path(alice, '/factors/totp'), token: 'alice', stepUp: true, body: { digits: '6' }, status: 400, code: 'invalid_request' },
      { name: 'unknown field', method: 'POST', path: () => path(alice, '/factors/totp'), token: 'alice', stepUp: true, body: { seed: 'JBSWY3DPEHPK3PXP' }, status: 400, code: 'invalid_request' },
      { name: 'not an otpauth URI', method: 'POST', path: () => path(alice, '/factors/totp'), token: 'alice', stepUp: true, body: { otpauthUri: 'https://example.org' }, status: 422, code: 'invalid_uri' },
      { name: "another user's path", method: 'POST', path: () => path(bob, '/factors/totp'), token: 'alice', stepUp: true, body: {}, status: 403, code: 'forbidden' },
      { name: 'a security officer cannot bind for a user', method: 'POST', path: () => path(alice, '/factors/totp'), token: 'officer', body: {}, status: 403, code: 'forbidden' },
      { name: 'a garbage step-up header', method: 'POST', path: () => path(alice, '/factors/totp'), token: 'alice', body: {}, status: 403, code: 'step_up_invalid' },
    ],
    'POST /v1/users/{userId}/factors/totp/{factorId}/confirmation': [
      ...bodyClasses({ method: 'POST', path: () => path(alice, `/factors/totp/${aliceFactor}/confirmation`), token: 'alice' }),
      { name: 'missing code', method: 'POST', path: () => path(alice, `/factors/totp/${aliceFactor}/confirmation`), token: 'alice', body: {}, status: 400, code: 'invalid_request' },
      { name: 'wrong type', method: 'POST', path: () => path(alice, `/factors/totp/${aliceFactor}/confirmation`), token: 'alice', body: { code: 123456 }, status: 400, code: 'invalid_request' },
      { name: "another user's factor", method: 'POST', path: () => path(alice, `/factors/totp/${bobFactor}/confirmation`), token: 'alice', body: { code: '123456' }, status: 404, code: 'credential_not_found' },
      { name: 'unknown factor', method: 'POST', path: () => path(alice, `/factors/totp/${uuid}/confirmation`), token: 'alice', body: { code: '123456' }, status: 404, code: 'credential_not_found' },
      { name: 'not a UUID', method: 'POST', path: () => path(alice, '/factors/totp/123/confirmation'), token: 'alice', body: { code: '123456' }, status: 400, code: 'invalid_request' },
    ],
    'POST /v1/users/{userId}/factors/webauthn/registration-options': [
      ...bodyClasses({ method: 'POST', path: () => path(alice, '/factors/webauthn/registration-options'), token: 'alice' }),
      { name: 'unknown field', method: 'POST', path: () => path(alice, '/factors/webauthn/registration-options'), token: 'alice', body: { attestation: 'direct' }, status: 400, code: 'invalid_request' },
      { name: "another user's path", method: 'POST', path: () => path(bob, '/factors/webauthn/registration-options'), token: 'alice', body: {}, status: 403, code: 'forbidden' },
    ],
    'POST /v1/users/{userId}/factors/webauthn': [
      ...bodyClasses({ method: 'POST', path: () => path(alice, '/factors/webauthn'), token: 'alice', stepUp: true }),
      { name: 'missing response', method: 'POST', path: () => path(alice, '/factors/webauthn'), token: 'alice', stepUp: true, body: { challengeId: uuid }, status: 400, code: 'invalid_request' },
      { name: 'not base64url', method: 'POST', path: () => path(alice, '/factors/webauthn'), token: 'alice', stepUp: true, body: { challengeId: uuid, response: { id: '!!', rawId: '!!', type: 'public-key', response: { clientDataJSON: '!!', attestationObject: '!!' } } }, status: 400, code: 'invalid_request' },
      { name: 'unknown challenge', method: 'POST', path: () => path(alice, '/factors/webauthn'), token: 'alice', stepUp: true, body: { challengeId: uuid, response: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'oA' } } }, status: 422, code: 'unknown_challenge' },
      { name: "another user's path", method: 'POST', path: () => path(bob, '/factors/webauthn'), token: 'alice', stepUp: true, body: { challengeId: uuid, response: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'oA' } } }, status: 403, code: 'forbidden' },
    ],
    'POST /v1/users/{userId}/backup-codes': [
      { name: 'no token', method: 'POST', path: () => path(alice, '/backup-codes'), token: null, status: 401, code: 'unauthenticated' },
      { name: 'huge body', method: 'POST', path: () => path(alice, '/backup-codes'), token: 'alice', stepUp: true, body: huge, status: 413, code: 'payload_too_large' },
      { name: 'malformed JSON', method: 'POST', path: () => path(alice, '/backup-codes'), token: 'alice', stepUp: true, rawBody: '{', status: 400, code: 'malformed_json' },
      { name: "another user's codes", method: 'POST', path: () => path(bob, '/backup-codes'), token: 'alice', stepUp: true, status: 403, code: 'forbidden' },
      { name: 'helpdesk cannot make codes', method: 'POST', path: () => path(alice, '/backup-codes'), token: 'helpdesk', status: 403, code: 'forbidden' },
      { name: 'no step-up (S14)', method: 'POST', path: () => path(alice, '/backup-codes'), token: 'alice', status: 403, code: 'step_up_insufficient' },
    ],
    'GET /v1/users/{userId}/backup-codes': [
      { name: 'no token', method: 'GET', path: () => path(alice, '/backup-codes'), token: null, status: 401, code: 'unauthenticated' },
      { name: "another user's count", method: 'GET', path: () => path(bob, '/backup-codes'), token: 'alice', status: 403, code: 'forbidden' },
      { name: 'bad user id', method: 'GET', path: badUser('/backup-codes'), token: 'alice', status: 400, code: 'invalid_request' },
    ],
    'POST /v1/users/{userId}/factors/email': [
      ...bodyClasses({ method: 'POST', path: () => path(alice, '/factors/email'), token: 'alice', stepUp: true }),
      { name: 'not an address', method: 'POST', path: () => path(alice, '/factors/email'), token: 'alice', stepUp: true, body: () => ({ address: 'alice' }), status: 400, code: 'invalid_request' },
      { name: 'wrong type', method: 'POST', path: () => path(alice, '/factors/email'), token: 'alice', stepUp: true, body: { address: ['a@example.org'] }, status: 400, code: 'invalid_request' },
      { name: "another user's path", method: 'POST', path: () => path(bob, '/factors/email'), token: 'alice', stepUp: true, body: { address: 'a@example.org' }, status: 403, code: 'forbidden' },
      { name: 'no delivery configured', method: 'POST', path: () => path(alice, '/factors/email'), token: 'alice', stepUp: true, body: { address: 'a@example.org' }, status: 422, code: 'delivery_unavailable' },
    ],
    'POST /v1/users/{userId}/factors/sms': [
      ...bodyClasses({ method: 'POST', path: () => path(alice, '/factors/sms'), token: 'alice', stepUp: true }),
      { name: 'not E.164', method: 'POST', path: () => path(alice, '/factors/sms'), token: 'alice', stepUp: true, body: { phoneNumber: '555-1234' }, status: 400, code: 'invalid_request' },
      { name: 'missing number', method: 'POST', path: () => path(alice, '/factors/sms'), token: 'alice', stepUp: true, body: {}, status: 400, code: 'invalid_request' },
      { name: "another user's path", method: 'POST', path: () => path(bob, '/factors/sms'), token: 'alice', stepUp: true, body: { phoneNumber: '+15550001111' }, status: 403, code: 'forbidden' },
    ],
    'POST /v1/verify': [
      ...bodyClasses({ method: 'POST', path: () => '/v1/verify', token: 'service' }),
      { name: 'unknown method', method: 'POST', path: () => '/v1/verify', token: 'service', body: () => ({ userId: alice, method: 'password', proof: {} }), status: 400, code: 'invalid_request' },
      { name: 'wrong proof type', method: 'POST', path: () => '/v1/verify', token: 'service', body: () => ({ userId: alice, method: 'totp', proof: { code: 123456 } }), status: 400, code: 'invalid_request' },
      { name: 'missing proof', method: 'POST', path: () => '/v1/verify', token: 'service', body: () => ({ userId: alice, method: 'totp' }), status: 400, code: 'invalid_request' },
      { name: 'client timestamp (S3)', method: 'POST', path: () => '/v1/verify', token: 'service', body: () => ({ userId: alice, method: 'totp', proof: { code: '123456', timestamp: 1 } }), status: 400, code: 'invalid_request' },
      { name: 'bad client address', method: 'POST', path: () => '/v1/verify', token: 'service', body: () => ({ userId: alice, method: 'totp', proof: { code: '123456' }, clientAddress: 'localhost; drop' }), status: 400, code: 'invalid_request' },
      { name: 'bad user id', method: 'POST', path: () => '/v1/verify', token: 'service', body: { userId: 'a b', method: 'totp', proof: { code: '123456' } }, status: 400, code: 'invalid_request' },
      { name: 'bad WebAuthn proof', method: 'POST', path: () => '/v1/verify', token: 'service', body: () => ({ userId: alice, method: 'webauthn', proof: { challengeId: 'x', response: 'y' } }), status: 400, code: 'invalid_request' },
      { name: 'a person for another user', method: 'POST', path: () => '/v1/verify', token: 'alice', body: () => ({ userId: bob, method: 'totp', proof: { code: '123456' } }), status: 403, code: 'forbidden' },
      { name: 'a service without factors:verify', method: 'POST', path: () => '/v1/verify', token: 'noScope', body: () => ({ userId: alice, method: 'totp', proof: { code: '123456' } }), status: 403, code: 'forbidden' },
    ],
    'POST /v1/step-up': [
      ...bodyClasses({ method: 'POST', path: () => '/v1/step-up', token: 'alice' }),
      { name: 'naming another user', method: 'POST', path: () => '/v1/step-up', token: 'alice', body: () => ({ userId: bob, method: 'totp', proof: { code: '123456' } }), status: 400, code: 'invalid_request' },
      { name: 'wrong type', method: 'POST', path: () => '/v1/step-up', token: 'alice', body: { method: 'totp', proof: 'code' }, status: 400, code: 'invalid_request' },
      { name: 'a service is not a user', method: 'POST', path: () => '/v1/step-up', token: 'noScope', body: { method: 'totp', proof: { code: '123456' } }, status: 403, code: 'forbidden' },
    ],
    'POST /v1/verify/webauthn-challenges': [
      ...bodyClasses({ method: 'POST', path: () => '/v1/verify/webauthn-challenges', token: 'service' }),
      { name: 'missing user', method: 'POST', path: () => '/v1/verify/webauthn-challenges', token: 'service', body: {}, status: 400, code: 'invalid_request' },
      { name: 'a user without keys', method: 'POST', path: () => '/v1/verify/webauthn-challenges', token: 'service', body: () => ({ userId: alice }), status: 404, code: 'no_webauthn_credentials' },
      { name: 'a person for another user', method: 'POST', path: () => '/v1/verify/webauthn-challenges', token: 'alice', body: () => ({ userId: bob }), status: 403, code: 'forbidden' },
    ],
    'POST /v1/verify/codes': [
      ...bodyClasses({ method: 'POST', path: () => '/v1/verify/codes', token: 'service' }),
      { name: 'not a restricted factor', method: 'POST', path: () => '/v1/verify/codes', token: 'service', body: () => ({ userId: alice, method: 'totp' }), status: 400, code: 'invalid_request' },
      { name: 'not a UUID', method: 'POST', path: () => '/v1/verify/codes', token: 'service', body: () => ({ userId: alice, method: 'email_otp', credentialId: 'x' }), status: 400, code: 'invalid_request' },
      { name: 'no such channel', method: 'POST', path: () => '/v1/verify/codes', token: 'service', body: () => ({ userId: alice, method: 'email_otp' }), status: 404, code: 'credential_not_found' },
      { name: 'a person for another user', method: 'POST', path: () => '/v1/verify/codes', token: 'alice', body: () => ({ userId: bob, method: 'sms_otp' }), status: 403, code: 'forbidden' },
    ],
    'POST /v1/admin/key-rotation': [
      { name: 'no token', method: 'POST', path: () => '/v1/admin/key-rotation', token: null, status: 401, code: 'unauthenticated' },
      { name: 'a user', method: 'POST', path: () => '/v1/admin/key-rotation', token: 'alice', status: 403, code: 'forbidden' },
      { name: 'a security officer', method: 'POST', path: () => '/v1/admin/key-rotation', token: 'officer', status: 403, code: 'forbidden' },
      { name: 'huge body', method: 'POST', path: () => '/v1/admin/key-rotation', token: 'alice', body: huge, status: 413, code: 'payload_too_large' },
    ],
    'GET /.well-known/jwks.json': [
      { name: 'a write to it', method: 'POST', path: () => '/.well-known/jwks.json', token: null, body: {}, status: 404, code: 'not_found' },
    ],
  };

  it.each(Object.entries(ENDPOINTS))('R7: %s answers every bad input with a 4xx and a code, and changes nothing', async (_endpoint, cases) => {
    const before = [await events(svc, alice), await events(svc, bob)];
    for (const testCase of cases) {
      const response = await svc.request(testCase.method, testCase.path(), {
        token: testCase.token === null || testCase.token === undefined ? undefined : tokens[testCase.token],
        body: typeof testCase.body === 'function' ? (testCase.body as () => unknown)() : testCase.body,
        rawBody: testCase.rawBody,
        headers: testCase.stepUp ? { 'x-step-up-assertion': stepUp } : testCase.name === 'a garbage step-up header' ? { 'x-step-up-assertion': 'garbage' } : {},
      });
      expect({ case: testCase.name, status: response.status, code: response.body?.error?.code }).toEqual({ case: testCase.name, status: testCase.status, code: testCase.code });
      expect(JSON.stringify(response.body)).not.toMatch(/\bat .+\.(ts|js):\d+|stack/i);
    }
    expect([await events(svc, alice), await events(svc, bob)]).toEqual(before);
  });
});
