import { createSmtpChannel } from './smtp-channel';
import { classifySmtpFailure } from './smtp-error';

/** Shapes as nodemailer 10 reports them against smtp-server (checked against the real pair). */
describe('SMTP failure classification', () => {
  it.each([
    ['a refused recipient (550 on RCPT TO)', { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', permanent: true }, false, 'recipient_rejected', false],
    ['a deferred recipient (450 greylisting on RCPT TO)', { code: 'EENVELOPE', responseCode: 450, command: 'RCPT TO', permanent: false }, false, 'delivery_failed', true],
    ['a refused sender (553 on MAIL FROM)', { code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM', permanent: true }, false, 'misconfigured', false],
    ['a refused message (554 after DATA)', { code: 'EMESSAGE', responseCode: 554, command: 'DATA', permanent: true }, false, 'delivery_failed', false],
    ['a deferred message (451 after DATA)', { code: 'EMESSAGE', responseCode: 451, command: 'DATA', permanent: false }, false, 'delivery_failed', true],
    ['503 bad sequence, without nodemailer\'s flag (RFC 5321: not a refusal of the message)', { code: 'EMESSAGE', responseCode: 503, command: 'DATA' }, false, 'delivery_failed', true],
    ['550 without nodemailer\'s flag', { code: 'EMESSAGE', responseCode: 550, command: 'DATA' }, false, 'delivery_failed', false],
    ['421 service closing', { code: 'EENVELOPE', responseCode: 421, command: 'MAIL FROM', permanent: false }, false, 'delivery_failed', true],
    ['a refused connection', { code: 'ESOCKET' }, false, 'delivery_failed', true],
    ['a dropped connection', { code: 'ECONNECTION' }, false, 'delivery_failed', true],
    ['a DNS failure', { code: 'EDNS' }, false, 'delivery_failed', true],
    ['a greeting timeout', { code: 'ETIMEDOUT' }, false, 'timeout', true],
    ['the overall send deadline (our abort)', { code: 'EABORT' }, true, 'timeout', true],
    ['wrong credentials', { code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }, false, 'misconfigured', false],
    ['STARTTLS required but not offered (a stripped or plaintext server)', { code: 'ETLS', responseCode: 500, command: 'STARTTLS' }, false, 'misconfigured', false],
    ['no recipients at all', { code: 'EENVELOPE' }, false, 'recipient_rejected', false],
    ['something unforeseen', {}, false, 'delivery_failed', true],
  ])('%s', (_case, failure, timedOut, code, retryable) => {
    expect(classifySmtpFailure(failure, timedOut)).toMatchObject({ code, retryable, channel: 'email' });
  });

  it('carries the reply code but never the server\'s reply text (it quotes the address)', () => {
    const error = classifySmtpFailure({ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', permanent: true, response: '550 <alice@example.com>: no such user' } as never, false);
    expect(error.status).toBe(550);
    expect(JSON.stringify(error)).not.toContain('alice@example.com');
  });
});

describe('SMTP channel configuration', () => {
  const valid = { host: 'smtp.example.com', port: 465, security: 'implicit-tls' as const, from: { address: 'no-reply@tessera.example' } };

  it('accepts implicit TLS and STARTTLS to any host', () => {
    expect(createSmtpChannel(valid).kind).toBe('email');
    expect(createSmtpChannel({ ...valid, port: 587, security: 'starttls' }).kind).toBe('email');
  });

  it('allows plaintext only to a loopback relay: codes must not cross a network in clear', () => {
    expect(() => createSmtpChannel({ ...valid, port: 25, security: 'none' })).toThrow(/loopback/);
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.53']) {
      expect(createSmtpChannel({ ...valid, host, port: 25, security: 'none' }).kind).toBe('email');
    }
    expect(() => createSmtpChannel({ ...valid, host: '127.example.com', port: 25, security: 'none' })).toThrow(/loopback/);
  });

  it.each([
    ['a missing host', { host: '' }],
    ['a port out of range', { port: 70_000 }],
    ['an unknown security mode', { security: 'tls' }],
    ['a from address that is not one', { from: { address: 'tessera' } }],
    ['a from name with a line break', { from: { address: 'no-reply@tessera.example', name: 'Tessera\r\nBcc: x@y.z' } }],
    ['a zero timeout', { timeouts: { sendMs: 0 } }],
  ])('refuses %s', (_case, override) => {
    expect(() => createSmtpChannel({ ...valid, ...override } as never)).toThrow(TypeError);
  });
});
