/**
 * Exact decimal arithmetic for money and ratios: amounts as bigint cents, quotients rounded half
 * away from zero to a fixed number of places. Never a float, so a figure a test computes by hand
 * is the figure the API returns.
 */

/**
 * A decimal string ("1234.5", "-0.125", "7") as an integer of `places` decimals (10^places units
 * per 1), rounded half away from zero.
 */
export function toScaled(value: string, places: number): bigint {
  const negative = value.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? value.slice(1) : value).split('.');
  const kept = BigInt((whole || '0') + fraction.padEnd(places, '0').slice(0, places));
  const roundUp = (fraction[places] ?? '0') >= '5' ? 1n : 0n;
  const units = kept + roundUp;
  return negative ? -units : units;
}

/** A decimal string as cents. */
export const toCents = (value: string): bigint => toScaled(value, 2);

/** `value / 10^places` as a string with exactly `places` decimals. */
export function formatScaled(value: bigint, places: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(places + 1, '0');
  const text =
    places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(digits.length - places)}`;
  return negative ? `-${text}` : text;
}

export const formatCents = (cents: bigint): string => formatScaled(cents, 2);

/** numerator / denominator scaled by 10^places, rounded half away from zero; 0n when denominator is 0. */
export function divideScaled(numerator: bigint, denominator: bigint, places: number): bigint {
  if (denominator === 0n) return 0n;
  const scaled = numerator * 10n ** BigInt(places);
  const negative = scaled < 0n !== denominator < 0n;
  const a = scaled < 0n ? -scaled : scaled;
  const b = denominator < 0n ? -denominator : denominator;
  const quotient = (a * 2n + b) / (b * 2n);
  return negative ? -quotient : quotient;
}
