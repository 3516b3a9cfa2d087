/**
 * The local platform's mailbox: an SMTP server on 127.0.0.1 that accepts every message and keeps it
 * as a file in .local/mail/, so that on a developer's machine the email codes, Temporary Access Passes
 * and security notices the services send can be read (`infra/local/platform mail`). Development only:
 * it listens on loopback, without TLS or authentication, which the services' SMTP adapters allow for
 * loopback hosts only.
 *
 *   mail-sink.ts serve PORT DIR     runs the server
 *   mail-sink.ts list DIR [N]       prints the newest N messages (default 5): date, recipients, subject, text
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

/** Security notices and codes are a few kilobytes; the cap keeps a runaway sender from filling the disk. */
const MAX_MESSAGE_BYTES = 1_000_000;

function serve(port: number, dir: string): void {
  mkdirSync(dir, { recursive: true });
  let sequence = 0;
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: MAX_MESSAGE_BYTES,
    banner: 'Tessera local mailbox',
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_MESSAGE_BYTES) chunks.push(chunk);
      });
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(Object.assign(new Error('message too large'), { responseCode: 552 }));
        const recipients = session.envelope.rcptTo.map((address) => address.address).join(', ');
        const name = `${Date.now()}-${String(++sequence).padStart(6, '0')}.eml`;
        writeFileSync(join(dir, name), Buffer.concat([Buffer.from(`X-Tessera-Envelope-To: ${recipients}\r\n`), ...chunks]));
        callback();
      });
    },
  });
  server.on('error', (error) => console.error(`mailbox: ${error.message}`));
  server.listen(port, '127.0.0.1', () => console.log(`mailbox listening on 127.0.0.1:${port}, messages in ${dir}`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** RFC 2045 §6.7 quoted-printable, enough to read a text part: soft line breaks and =XX octets. */
function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** The first text/plain part of a message (or its whole body), decoded. */
function textOf(raw: string): { headers: Map<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headerBlock = split === -1 ? raw : raw.slice(0, split);
  const headers = new Map<string, string>();
  for (const line of headerBlock.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = split === -1 ? '' : raw.slice(split + 4);
  let encoding = headers.get('content-transfer-encoding') ?? '';
  const boundary = /boundary="?([^";]+)"?/i.exec(headers.get('content-type') ?? '')?.[1];
  if (boundary) {
    const plain = body.split(`--${boundary}`).find((part) => /content-type:\s*text\/plain/i.test(part));
    if (plain) {
      const partSplit = plain.indexOf('\r\n\r\n');
      encoding = /content-transfer-encoding:\s*([^\r\n]+)/i.exec(plain.slice(0, partSplit))?.[1] ?? '';
      body = plain.slice(partSplit + 4);
    }
  }
  if (/quoted-printable/i.test(encoding)) body = decodeQuotedPrintable(body);
  else if (/base64/i.test(encoding)) body = Buffer.from(body.replace(/\s/g, ''), 'base64').toString('utf8');
  return { headers, text: body.trim() };
}

/** RFC 2047 encoded words in a header (as nodemailer writes non-ASCII subjects); §6.2: the space between two is not text. */
function decodeHeader(value: string | undefined): string {
  return (value ?? '').replace(/\?=\s+=\?/g, '?==?').replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_match, kind: string, data: string) =>
    kind.toLowerCase() === 'b' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
  );
}

function list(dir: string, count: number): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.eml')).sort();
  } catch {
    // no mail yet
  }
  if (names.length === 0) {
    console.log('The local mailbox is empty.');
    return;
  }
  for (const name of names.slice(-count)) {
    const { headers, text } = textOf(readFileSync(join(dir, name), 'utf8'));
    console.log(`── ${new Date(Number(name.split('-')[0])).toISOString()}  to ${headers.get('x-tessera-envelope-to') ?? '?'}`);
    console.log(`   ${decodeHeader(headers.get('subject'))}\n`);
    console.log(text.split('\n').map((line) => `   ${line}`).join('\n'));
    console.log('');
  }
}

const [command, first, second] = process.argv.slice(2);
if (command === 'serve' && first && second) serve(Number(first), second);
else if (command === 'list' && first) list(first, Number(second ?? 5));
else {
  console.error('usage: mail-sink.ts serve PORT DIR | list DIR [N]');
  process.exit(2);
}
