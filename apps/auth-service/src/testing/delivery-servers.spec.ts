import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '@tessera/notifications';
import { SMTPServer } from 'smtp-server';

/**
 * Real delivery endpoints for auth-service's integration tests: an SMTP server (the `smtp-server`
 * package) that keeps every message, and an HTTP server standing in for an SMS gateway that checks each
 * request's signature with @tessera/notifications' `verifyWebhookSignature`, as a gateway would.
 */
export interface ReceivedMail {
  readonly to: readonly string[];
  readonly raw: string;
}

export interface TestMailbox {
  readonly port: number;
  readonly url: string;
  readonly received: ReceivedMail[];
  /** The one-time code or pass of the newest message to `to` (the indented line of the text body). */
  codeFor(to: string): string;
  close(): Promise<void>;
}

export async function startMailbox(): Promise<TestMailbox> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((address) => address.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}?security=none`,
    received,
    codeFor(to) {
      const mail = [...received].reverse().find((message) => message.to.includes(to));
      const code = mail && /^ {4}([0-9]{6,10})\r?$/m.exec(mail.raw)?.[1];
      if (!code) throw new Error(`no code was mailed to ${to}`);
      return code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface GatewayRequest {
  readonly body: string;
  readonly signatureValid: boolean;
  readonly idempotencyKey: string | undefined;
  readonly payload: { id: string; channel: string; to: string; template: string; text: string };
}

export interface TestSmsGateway {
  readonly url: string;
  readonly secret: string;
  readonly requests: GatewayRequest[];
  /** The code of the newest message to `to` that carried a valid signature. */
  codeFor(to: string): string;
  /** Answers the next `count` requests 503, as a gateway that is down (the requests are not kept). */
  failNext(count: number): void;
  close(): Promise<void>;
}

/** Answers 401 to a request whose signature does not verify, like a real gateway. */
export async function startSmsGateway(secret = 'sms-gateway-secret-of-at-least-32-bytes!!'): Promise<TestSmsGateway> {
  const requests: GatewayRequest[] = [];
  let failures = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (failures > 0) {
        failures--;
        response.writeHead(503).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const signatureValid = verifyWebhookSignature(secret, request.headers['tessera-signature'] as string | undefined, body, new Date());
      const idempotencyKey = request.headers['tessera-idempotency-key'] as string | undefined;
      requests.push({ body, signatureValid, idempotencyKey, payload: JSON.parse(body) });
      response.writeHead(signatureValid ? 202 : 401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ accepted: signatureValid }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/messages`,
    secret,
    requests,
    codeFor(to) {
      const message = [...requests].reverse().find((candidate) => candidate.signatureValid && candidate.payload.to === to);
      const code = message && /(?:^|[^0-9])([0-9]{6,10})(?:[^0-9]|$)/.exec(message.payload.text)?.[1];
      if (!code) throw new Error(`no code was sent to ${to}`);
      return code;
    },
    failNext(count) {
      failures = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The environment that points auth-service's code delivery at these servers. */
export function deliveryEnv(mailbox: TestMailbox, gateway: TestSmsGateway): Record<string, string> {
  return { AUTH_SMTP_URL: mailbox.url, AUTH_SMTP_FROM: 'Tessera <no-reply@tessera.test>', AUTH_SMS_WEBHOOK_URL: gateway.url, AUTH_SMS_WEBHOOK_SECRET: gateway.secret };
}
