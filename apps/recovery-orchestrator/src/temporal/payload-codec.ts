import { createHash, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { AES_GCM_KEY_BYTES, AES_GCM_NONCE_BYTES, AES_GCM_TAG_BYTES, aesGcmOpen, aesGcmSeal, type ConfiguredKeyRing, CryptoError, parseKeyRing } from '@tessera/crypto';

/** The `encoding` of a sealed payload. Payloads with any other encoding are not ours (see `decode`). */
export const SEALED_ENCODING = 'binary/tessera-sealed;v=1';
/** Metadata naming the key-encryption key, so keys can rotate while old histories stay readable. */
export const KEY_ID_METADATA = 'encryption-key-id';

/** Domain-separates the payload's associated data from every other use of AES-GCM in Tessera. */
const LABEL = 'tessera/temporal-payload/v1';
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;
const LENGTH_BYTES = 2;

/**
 * Development and test only: a fixed, publicly known key, so that workflows started before a restart
 * still decode after it (a random key per process would strand every running workflow). Derived here
 * rather than written out so it never looks like a real secret to a scanner or a reader.
 */
const DEVELOPMENT_KEY_ID = 'dev-insecure';
const developmentKeys = () => `${DEVELOPMENT_KEY_ID}:${createHash('sha256').update('tessera development temporal payload key, never for production').digest('base64')}`;

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/**
 * The key ring from TEMPORAL_PAYLOAD_KEYS (`kid:base64key,…`, 32-byte keys, the first encrypts, all
 * decrypt); required in production, a fixed development key elsewhere. Validation and error messages
 * are the shared key ring's, which never quote key material.
 */
export function payloadKeyRingFrom(setting: string | undefined, environment: string | undefined): ConfiguredKeyRing {
  if (!setting) {
    if (environment === 'production') throw new Error('TEMPORAL_PAYLOAD_KEYS is required in production');
    return parseKeyRing(developmentKeys(), DEVELOPMENT_KEY_ID);
  }
  const first = setting.split(',')[0]?.trim() ?? '';
  return parseKeyRing(setting, first.slice(0, Math.max(0, first.indexOf(':'))));
}

/**
 * Seals every Temporal payload (workflow and activity inputs and results, signals, updates, queries,
 * memo, failure details) with AES-256-GCM before it leaves the process, so Temporal's history and
 * visibility stores hold no personal data in clear (S32). Search attributes are not payloads the SDK
 * passes through codecs: they stay readable, and hold only what on-call searches by.
 *
 * Each payload gets a fresh 256-bit data key wrapped by the current key-encryption key of the ring
 * (envelope encryption, as for verifier secrets). One long-lived key would seal every payload of
 * every workflow, and with random 96-bit nonces NIST SP 800-38D §8.3 caps a key at 2^32 encryptions;
 * a data key seals exactly one payload.
 *
 * The whole payload, its metadata included (e.g. `encoding: json/plain`), is serialised and sealed.
 * The associated data binds the outer encoding and the key id, so a payload relabelled with another
 * encoding or key fails to open instead of being misread.
 *
 * Decoding passes through any payload whose encoding is not the sealed one: histories recorded before
 * the codec was deployed (R4's recorded histories, workflows still running across the upgrade) must go
 * on replaying. Such a payload is exactly as trustworthy as before the codec; no sealed payload can be
 * turned into one, since its plaintext is never exposed without the key.
 */
export class SealingPayloadCodec implements PayloadCodec {
  constructor(private readonly keys: ConfiguredKeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((payload) => this.seal(payload)));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((payload) => (text(payload.metadata?.encoding) === SEALED_ENCODING ? this.open(payload) : payload)));
  }

  private async seal(payload: Payload): Promise<Payload> {
    const plaintext = Buffer.from(temporal.api.common.v1.Payload.encode(payload).finish());
    const dataKey = randomBytes(AES_GCM_KEY_BYTES);
    try {
      const { keyId, wrappedKey } = await this.keys.wrapKey(dataKey);
      const { nonce, tag, body } = aesGcmSeal(dataKey, plaintext, associatedData(keyId));
      const length = Buffer.alloc(LENGTH_BYTES);
      length.writeUInt16BE(wrappedKey.byteLength);
      return {
        metadata: { encoding: utf8(SEALED_ENCODING), [KEY_ID_METADATA]: utf8(keyId) },
        data: Buffer.concat([length, wrappedKey, nonce, tag, body]),
      };
    } finally {
      dataKey.fill(0);
      plaintext.fill(0);
    }
  }

  private async open(payload: Payload): Promise<Payload> {
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    if (keyId === undefined || !KEY_ID_PATTERN.test(keyId)) throw new CryptoError('malformed_ciphertext', `a sealed Temporal payload has no valid '${KEY_ID_METADATA}' metadata`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    const wrappedLength = data.byteLength >= LENGTH_BYTES ? data.readUInt16BE(0) : -1;
    const nonceAt = LENGTH_BYTES + wrappedLength;
    if (wrappedLength < 1 || data.byteLength < nonceAt + AES_GCM_NONCE_BYTES + AES_GCM_TAG_BYTES) {
      throw new CryptoError('malformed_ciphertext', 'a sealed Temporal payload is truncated');
    }
    let dataKey: Buffer;
    try {
      dataKey = await this.keys.unwrapKey(keyId, data.subarray(LENGTH_BYTES, nonceAt));
    } catch (error) {
      if (error instanceof CryptoError && error.code === 'unknown_key_id') {
        throw new CryptoError('unknown_key_id', `a Temporal payload is sealed under key '${keyId}', which TEMPORAL_PAYLOAD_KEYS does not hold; add it back to the ring to read this history`);
      }
      throw error;
    }
    try {
      const plaintext = aesGcmOpen(
        dataKey,
        {
          nonce: data.subarray(nonceAt, nonceAt + AES_GCM_NONCE_BYTES),
          tag: data.subarray(nonceAt + AES_GCM_NONCE_BYTES, nonceAt + AES_GCM_NONCE_BYTES + AES_GCM_TAG_BYTES),
          body: data.subarray(nonceAt + AES_GCM_NONCE_BYTES + AES_GCM_TAG_BYTES),
        },
        associatedData(keyId),
      );
      if (!plaintext) throw new CryptoError('authentication_failed', `a sealed Temporal payload failed authentication under key '${keyId}': altered, or relabelled`);
      return temporal.api.common.v1.Payload.decode(plaintext) as Payload;
    } finally {
      dataKey.fill(0);
    }
  }
}

/** The label, the outer encoding and the key id, length-prefixed by JSON's string quoting (injective for strings). */
function associatedData(keyId: string): Buffer {
  return Buffer.from(JSON.stringify([LABEL, SEALED_ENCODING, keyId]), 'utf8');
}

/** The data converter of every Temporal client and worker of the orchestrator (and of anyone reading its workflows). */
export function temporalDataConverter(config: { readonly TEMPORAL_PAYLOAD_KEYS?: string; readonly TESSERA_ENV?: string }): DataConverter {
  return { payloadCodecs: [new SealingPayloadCodec(payloadKeyRingFrom(config.TEMPORAL_PAYLOAD_KEYS, config.TESSERA_ENV))] };
}
