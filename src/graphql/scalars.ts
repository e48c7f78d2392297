/**
 * Scalars. Money and Decimal are decimal strings, never floats ("12.50"); dates, ids and the
 * rest come from graphql-scalars.
 */
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import {
  CountryCodeResolver,
  CurrencyResolver,
  DateResolver,
  DateTimeResolver,
  EmailAddressResolver,
  JSONResolver,
  UUIDResolver,
} from 'graphql-scalars';

/**
 * graphql-scalars' Date and DateTime accept year 0000 (1 BC), which PostgreSQL's date and
 * timestamptz refuse; these refuse any instant outside 0001-01-01 to 9999-12-31 (UTC), so a date
 * the database cannot hold is BAD_USER_INPUT before any SQL runs.
 */
export const EARLIEST_DATE = '0001-01-01';
export const LATEST_DATE = '9999-12-31';

function storableDates(scalar: GraphQLScalarType): GraphQLScalarType {
  const config = scalar.toConfig();
  const bounded = (value: unknown): unknown => {
    const year = value instanceof Date ? value.getUTCFullYear() : Number.NaN;
    if (!(year >= 1 && year <= 9999)) {
      throw new GraphQLError(
        `${config.name} must be between ${EARLIEST_DATE} and ${LATEST_DATE} (UTC), the dates the database stores.`,
        { extensions: { code: 'BAD_USER_INPUT' } },
      );
    }
    return value;
  };
  return new GraphQLScalarType({
    ...config,
    parseValue: (value) => bounded(config.parseValue!(value)),
    parseLiteral: (ast, variables) => bounded(config.parseLiteral!(ast, variables)),
  });
}

export const GraphQLDate = storableDates(DateResolver);
export const GraphQLDateTime = storableDates(DateTimeResolver);
export const GraphQLUUID = UUIDResolver;
export const GraphQLJSON = JSONResolver;
export const GraphQLCurrency = CurrencyResolver;
export const GraphQLCountryCode = CountryCodeResolver;
export const GraphQLEmailAddress = EmailAddressResolver;

function decimalScalar(name: string, pattern: RegExp, example: string, description: string) {
  const parse = (value: unknown): string => {
    if (typeof value !== 'string' || !pattern.test(value)) {
      throw new GraphQLError(`${name} must be a decimal string such as "${example}".`, {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    return value;
  };
  return new GraphQLScalarType<string, string>({
    name,
    description,
    serialize: (value) => {
      if (typeof value === 'string') return value;
      if (typeof value === 'bigint') return value.toString();
      throw new GraphQLError(`${name} cannot represent ${typeof value}`);
    },
    parseValue: parse,
    parseLiteral: (ast) => {
      if (ast.kind !== Kind.STRING) {
        throw new GraphQLError(
          `${name} must be a decimal string such as "${example}", not a number.`,
          {
            extensions: { code: 'BAD_USER_INPUT' },
          },
        );
      }
      return parse(ast.value);
    },
  });
}

export const GraphQLMoney = decimalScalar(
  'Money',
  /^-?\d{1,13}(\.\d{1,2})?$/,
  '12.50',
  'An amount of money as a decimal string with at most 2 decimal places, e.g. "12.50". Never a float.',
);

export const GraphQLDecimal = decimalScalar(
  'Decimal',
  /^-?\d{1,15}(\.\d{1,6})?$/,
  '1.2500',
  'A decimal number as a string, e.g. "1.2500" (ratios, days). Never a float.',
);

/** A GraphQL Date argument as the 'YYYY-MM-DD' that PostgreSQL's date type takes. */
export const isoDate = (date: Date): string => date.toISOString().slice(0, 10);
