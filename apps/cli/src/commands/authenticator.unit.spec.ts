import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOTP } from 'otpauth';
import { runCli } from '../cli';
import { COMMANDS } from './index';

/**
 * `tessera authenticator`, run in-process on a temporary directory (no service involved). Codes are
 * checked against otpauth's own RFC 6238 implementation, at the same instant, one step either side
 * accepted so that a test crossing a step boundary does not fail.
 */
const PASSPHRASE = 'a long local passphrase for tests';
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const URI = `otpauth://totp/ACME:alice%40example.com?secret=${SECRET}&issuer=ACME&algorithm=SHA256&digits=8&period=30`;

describe('tessera authenticator (S31 local store)', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-authenticator-'));
    file = join(dir, 'authenticator.tsvb');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function tessera(args: string[], env: Record<string, string> = {}) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, COMMANDS, {
      env: { TESSERA_AUTHENTICATOR_FILE: file, TESSERA_AUTHENTICATOR_PASSPHRASE: PASSPHRASE, ...env },
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
    });
    return { code, stdout, stderr };
  }

  function source(name: string, content: string): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  }

  it('adds an account from an otpauth URI file and prints its current RFC 6238 code', async () => {
    expect((await tessera(['authenticator', 'add', '--from', source('uri.txt', `${URI}\n`)])).code).toBe(0);
    const printed = await tessera(['authenticator', '--json', '--next']);
    expect(printed.code).toBe(0);
    const [line] = JSON.parse(printed.stdout) as { account: string; code: string; nextCode: string; validForSeconds: number }[];
    expect(line.account).toBe('ACME:alice@example.com');
    const totp = new TOTP({ secret: SECRET, algorithm: 'SHA256', digits: 8, period: 30 });
    const now = Date.now();
    const around = [-30_000, 0, 30_000].map((offset) => totp.generate({ timestamp: now + offset }));
    expect(around).toContain(line.code);
    expect(line.nextCode).toBe(totp.generate({ timestamp: now + (line.code === around[0] ? 0 : line.code === around[1] ? 30_000 : 60_000) }));
    expect(line.validForSeconds).toBeGreaterThan(0);
    expect(line.validForSeconds).toBeLessThanOrEqual(30);
  });

  it('S29: the store is encrypted and owner-only; listing never shows a secret', async () => {
    await tessera(['authenticator', 'add', '--from', source('uri.txt', URI)]);
    const stored = readFileSync(file);
    expect(stored.subarray(0, 4).toString('latin1')).toBe('TSVB');
    expect(stored.includes(Buffer.from(SECRET))).toBe(false);
    expect(stored.includes(Buffer.from('alice@example.com'))).toBe(false);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const listed = await tessera(['authenticator', 'list']);
    expect(listed.stdout).toContain('ACME:alice@example.com');
    expect(listed.stdout).not.toContain(SECRET);
  });

  it('S31: a wrong passphrase and a tampered store fail with clear errors and exit 1', async () => {
    await tessera(['authenticator', 'add', '--from', source('uri.txt', URI)]);
    const wrong = await tessera(['authenticator'], { TESSERA_AUTHENTICATOR_PASSPHRASE: 'not the right passphrase at all' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: wrong_passphrase_or_tampered: .*wrong passphrase, or the file was damaged or altered/);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0x01;
    writeFileSync(file, bytes);
    const tampered = await tessera(['authenticator']);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('wrong_passphrase_or_tampered');
  });

  it('a HOTP code advances and saves its counter (RFC 4226 §7.2)', async () => {
    await tessera(['authenticator', 'add', '--from', source('hotp.txt', `otpauth://hotp/VPN?secret=${SECRET}&counter=7`)]);
    const first = JSON.parse((await tessera(['authenticator', '--index', '1', '--json'])).stdout)[0].code;
    const second = JSON.parse((await tessera(['authenticator', '--index', '1', '--json'])).stdout)[0].code;
    const hotp = (counter: number) => new TOTP({ secret: SECRET, period: 1 }).generate({ timestamp: counter * 1000 });
    expect([first, second]).toEqual([hotp(7), hotp(8)]);
    expect(JSON.parse((await tessera(['authenticator', 'list', '--json'])).stdout)[0].counter).toBe(9);
  });

  it('imports an Aegis plain export, reports what it skips, and exports back in both formats', async () => {
    const aegis = {
      version: 1,
      header: { slots: null, params: null },
      db: {
        version: 3,
        entries: [
          { type: 'totp', name: 'bob', issuer: 'Git', info: { secret: SECRET, algo: 'SHA1', digits: 6, period: 30 } },
          { type: 'steam', name: 'game', issuer: 'Steam', info: { secret: SECRET, algo: 'SHA1', digits: 5, period: 30 } },
        ],
      },
    };
    const added = await tessera(['authenticator', 'add', '--format', 'aegis', '--from', source('aegis.json', JSON.stringify(aegis)), '--json']);
    expect(JSON.parse(added.stdout)).toMatchObject({ added: ['Git:bob'], skipped: [expect.stringContaining('entry 1 (steam)')] });
    const out = join(dir, 'export.txt');
    expect((await tessera(['authenticator', 'export', '--format', 'otpauth', '--out', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain(`secret=${SECRET}`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const again = await tessera(['authenticator', 'export', '--format', 'aegis', '--out', out]);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('file_exists')]);
    expect((await tessera(['authenticator', 'export', '--format', 'aegis', '--out', out, '--force'])).code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).db.entries[0]).toMatchObject({ name: 'bob', issuer: 'Git', info: { secret: SECRET } });
  });

  it('refuses secrets as arguments, bad URIs and bad options with usage or vault codes', async () => {
    const positional = await tessera(['authenticator', 'add', URI]);
    expect([positional.code, positional.stderr]).toEqual([2, expect.stringMatching(/^error: usage: /)]);
    expect(positional.stderr).not.toContain(SECRET);
    const badUri = await tessera(['authenticator', 'add', '--from', source('bad.txt', 'otpauth://totp/x?secret=NOT-BASE32!!')]);
    expect([badUri.code, badUri.stderr]).toEqual([1, expect.stringContaining('invalid_otpauth_uri')]);
    const badIndex = await tessera(['authenticator', 'remove', '--index', '3']);
    expect(badIndex.code).toBe(2);
    const shortPassphrase = await tessera(['authenticator', 'add', '--from', source('uri.txt', URI)], { TESSERA_AUTHENTICATOR_PASSPHRASE: 'short' });
    expect([shortPassphrase.code, shortPassphrase.stderr]).toEqual([1, expect.stringContaining('passphrase_too_short')]);
    const unknownOption = await tessera(['authenticator', '--secret', SECRET]);
    expect(unknownOption.code).toBe(2);
  });
});
