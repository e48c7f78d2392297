/**
 * Authenticated encryption of the third-party credentials a tenant stores with us (AES-256-GCM).
 *
 * The stored text describes itself: `v1.<iv>.<tag>.<ciphertext>`, each part base64url. `v1` is the
 * format (AES-256-GCM, 96-bit IV, 128-bit tag), not the key: which key encrypted a value is the
 * caller's business (api_credentials.key_version), and the caller binds it, together with the
 * tenant and the service, into the associated data, so a value copied to another tenant, another
 * service or another key version no longer decrypts.
 *
 * Errors never carry the plaintext, the key or the stored text.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const FORMAT = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function assertKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) {
    throw new Error(`The credential key must be ${KEY_BYTES} bytes, not ${key.length}.`);
  }
}

/** Encrypts `plaintext` under `key`, bound to `aad`; a fresh random IV every time. */
export function encryptCredential(key: Buffer, plaintext: string, aad: string): string {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [FORMAT, iv, tag, ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

export class CredentialDecryptionError extends Error {
  constructor(reason: string) {
    super(`The stored credential cannot be decrypted: ${reason}.`);
    this.name = 'CredentialDecryptionError';
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decrypts what encryptCredential stored. Throws CredentialDecryptionError when the text is not in
 * the format, or when the key, the associated data or any byte differs (GCM authentication).
 */
export function decryptCredential(key: Buffer, stored: string, aad: string): string {
  assertKey(key);
  const parts = stored.split('.');
  if (
    parts.length !== 4 ||
    parts[0] !== FORMAT ||
    !parts.slice(1).every((p) => BASE64URL.test(p))
  ) {
    throw new CredentialDecryptionError(`not in the ${FORMAT} format`);
  }
  const [iv, tag, ciphertext] = parts.slice(1).map((part) => Buffer.from(part, 'base64url')) as [
    Buffer,
    Buffer,
    Buffer,
  ];
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new CredentialDecryptionError('the IV or the tag has the wrong length');
  }
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new CredentialDecryptionError('authentication failed (wrong key, context or data)');
  }
}
