/**
 * API key format: `cq_live_` + 22 base62 characters of randomness (~131 bits) + a 6-character
 * base62 CRC-32 of everything before it. The checksum lets a mistyped or made-up key be refused
 * without touching the database; the key itself is stored only as its SHA-256 hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const API_KEY_PREFIX = 'cq_live_';
const RANDOM_LENGTH = 22;
const CHECKSUM_LENGTH = 6;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SHAPE = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

/** How many characters of a key are kept in clear, to recognise it in a list. */
export const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;

function base62(value: bigint, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0n) {
    out = ALPHABET[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out.padStart(width, '0');
}

const checksumOf = (body: string) => base62(BigInt(crc32(body)), CHECKSUM_LENGTH);

export function generateApiKey(): string {
  // Rejection sampling keeps every character uniformly distributed.
  let random = '';
  while (random.length < RANDOM_LENGTH) {
    for (const byte of randomBytes(32)) {
      if (byte < 248 && random.length < RANDOM_LENGTH) random += ALPHABET[byte % 62];
    }
  }
  const body = `${API_KEY_PREFIX}${random}`;
  return `${body}${checksumOf(body)}`;
}

/** True when the text has the shape of a key and its checksum matches. */
export function isWellFormedApiKey(key: string): boolean {
  if (!SHAPE.test(key)) return false;
  const body = key.slice(0, -CHECKSUM_LENGTH);
  return checksumOf(body) === key.slice(-CHECKSUM_LENGTH);
}

export const hashApiKey = (key: string): Buffer => createHash('sha256').update(key).digest();

export const displayPrefix = (key: string): string => key.slice(0, DISPLAY_PREFIX_LENGTH);
