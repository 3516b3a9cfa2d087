import { Inject, Injectable } from '@nestjs/common';
import { CryptoError, EnvelopeCipher } from '@tessera/crypto';
import { DomainError } from '@tessera/event-sourcing';
import { LOGGER } from '@tessera/platform';
import type { Logger } from 'pino';
import { AUTH_KEYS } from '../common/tokens';
import type { AuthKeys } from '../config/auth-keys';

/** What a stored secret is; bound into its ciphertext so one kind cannot stand in for another (S28). */
export type SecretPurpose = 'totp-seed' | 'oob-destination';

/**
 * S28: verifier secrets at rest through @tessera/crypto's envelope encryption — a fresh data key per
 * secret, wrapped by the current key-encryption key of the configured ring; the associated data binds
 * user, credential and purpose, so a ciphertext moved to another row fails to decrypt.
 */
@Injectable()
export class SecretBox {
  readonly cipher: EnvelopeCipher;

  constructor(
    @Inject(AUTH_KEYS) keys: AuthKeys,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.cipher = new EnvelopeCipher(keys.keyRing);
  }

  seal(plaintext: Buffer, userId: string, credentialId: string, purpose: SecretPurpose): Promise<string> {
    return this.cipher.encrypt(plaintext, { userId, credentialId, purpose });
  }

  /**
   * A ciphertext that fails (moved from another row, altered, or under a key no longer in the ring) is a
   * security event for the operators and a refusal for the caller, never a 5xx. CryptoError messages
   * carry no secret (S30).
   */
  async open(ciphertext: string, userId: string, credentialId: string, purpose: SecretPurpose): Promise<Buffer> {
    try {
      return await this.cipher.decrypt(ciphertext, { userId, credentialId, purpose });
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      this.logger.error({ credentialId, purpose, cryptoError: error.code }, 'a stored secret failed to decrypt');
      throw new DomainError('secret_unreadable', 'the stored secret of this credential cannot be used; re-enrol it', 'conflict');
    }
  }
}
