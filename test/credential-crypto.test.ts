import { randomBytes } from 'node:crypto';
import {
  CredentialDecryptionError,
  decryptCredential,
  encryptCredential,
} from '../src/auth/credential-crypto.js';

const key = randomBytes(32);
const tenant = '5f1c2b9e-6a57-4c1e-9a0e-2d4b7f3c8e11';
const aad = `${tenant}:xero:1`;
const secret = JSON.stringify({ client_id: 'ABC', client_secret: 'sk_live_é漢字🔑_0123456789' });
const FAILED =
  'The stored credential cannot be decrypted: authentication failed (wrong key, context or data).';

/** The stored text with one byte of one part (1 iv, 2 tag, 3 ciphertext) flipped. */
function flip(stored: string, part: 1 | 2 | 3, index = 0): string {
  const parts = stored.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[index] = bytes[index]! ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

const attempt = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
};

test('a round trip gives back the plaintext, in the v1.<iv>.<tag>.<ciphertext> format', () => {
  const stored = encryptCredential(key, secret, aad);
  expect(stored).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const [, iv, tag, ciphertext] = stored.split('.');
  expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
  expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
  expect(Buffer.from(ciphertext!, 'base64url')).toHaveLength(Buffer.byteLength(secret));
  expect(stored).not.toContain('sk_live');
  expect(decryptCredential(key, stored, aad)).toBe(secret);
  expect(decryptCredential(key, encryptCredential(key, '', aad), aad)).toBe('');
});

test('two encryptions of the same value differ (a fresh IV each time) and both decrypt', () => {
  const first = encryptCredential(key, secret, aad);
  const second = encryptCredential(key, secret, aad);
  expect(first).not.toBe(second);
  expect(first.split('.')[1]).not.toBe(second.split('.')[1]);
  expect(decryptCredential(key, first, aad)).toBe(secret);
  expect(decryptCredential(key, second, aad)).toBe(secret);
});

test.each([
  ['another tenant', `0b7e4d1a-93f2-4c55-8d6b-1e2f3a4b5c6d:xero:1`],
  ['another service', `${tenant}:shopify_uk:1`],
  ['another key version', `${tenant}:xero:2`],
  ['no associated data', ''],
])('a value bound to one context does not decrypt in %s', (_, otherAad) => {
  const stored = encryptCredential(key, secret, aad);
  const error = attempt(() => decryptCredential(key, stored, otherAad));
  expect(error).toBeInstanceOf(CredentialDecryptionError);
  expect((error as Error).message).toBe(FAILED);
});

test.each([
  ['a flipped ciphertext byte', (s: string) => flip(s, 3)],
  ['the last ciphertext byte flipped', (s: string) => flip(s, 3, Buffer.byteLength(secret) - 1)],
  ['a flipped tag byte', (s: string) => flip(s, 2)],
  ['a flipped IV byte', (s: string) => flip(s, 1)],
])('%s fails authentication', (_, tamper) => {
  const error = attempt(() =>
    decryptCredential(key, tamper(encryptCredential(key, secret, aad)), aad),
  );
  expect(error).toBeInstanceOf(CredentialDecryptionError);
  expect((error as Error).message).toBe(FAILED);
});

test('another key fails authentication', () => {
  const stored = encryptCredential(key, secret, aad);
  expect(() => decryptCredential(randomBytes(32), stored, aad)).toThrow(FAILED);
});

test.each([
  ['another format version', (s: string) => s.replace(/^v1\./, 'v2.'), 'not in the v1 format'],
  ['a missing part', (s: string) => s.split('.').slice(0, 3).join('.'), 'not in the v1 format'],
  ['a part that is not base64url', (s: string) => `${s}+/`, 'not in the v1 format'],
  [
    'a truncated tag',
    (s: string) => {
      const parts = s.split('.');
      parts[2] = Buffer.from(parts[2]!, 'base64url').subarray(0, 12).toString('base64url');
      return parts.join('.');
    },
    'the IV or the tag has the wrong length',
  ],
])('a stored text with %s is refused', (_, tamper, reason) => {
  const stored = tamper(encryptCredential(key, secret, aad));
  expect(() => decryptCredential(key, stored, aad)).toThrow(
    `The stored credential cannot be decrypted: ${reason}.`,
  );
});

test('a key that is not 32 bytes is refused, and no error names the plaintext', () => {
  expect(() => encryptCredential(Buffer.alloc(16), secret, aad)).toThrow(
    'The credential key must be 32 bytes, not 16.',
  );
  const errors = [
    attempt(() => encryptCredential(Buffer.alloc(16), secret, aad)),
    attempt(() => decryptCredential(key, flip(encryptCredential(key, secret, aad), 3), aad)),
  ];
  for (const error of errors) expect(String((error as Error).stack)).not.toContain('sk_live');
});
