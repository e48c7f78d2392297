/**
 * The real HTTP server on a random port, over a test database, and clients that call it the way
 * partners do: graphql-request with an API key and codegen's typed documents.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { ClientError, GraphQLClient } from 'graphql-request';
import type { AddressInfo } from 'node:net';
import { sql, type DatabasePool } from 'slonik';
import type Stripe from 'stripe';
import { createApiKey } from '../../src/auth/api-keys.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { DEFAULT_JOB_SETTINGS, JobQueue, type JobSettings } from '../../src/jobs/queue.js';
import { buildApp } from '../../src/server/app.js';
import { createTenant, type Tenant } from '../../src/tenants/lifecycle.js';
import type { ClerkConfig, TenantTransactionLimits } from '../../src/config.js';
import { sessionToken, strictClerkConfig } from './clerk.js';
import type { TestDatabase } from './database.js';

export type Api = {
  url: string;
  client(key: string | undefined, headers?: Record<string, string>): GraphQLClient;
  close(): Promise<void>;
};

export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7);

export type ApiOptions = {
  apiKeyCacheTtlMs?: number;
  pool?: DatabasePool;
  encryptionKey?: Buffer;
  /** Clerk sessions and webhooks: test/support/clerk.ts's key pair by default. */
  clerk?: ClerkConfig;
  platformAdmins?: string[];
  corsOrigins?: string[];
  trustProxy?: boolean | string[];
  /** How often counted requests reach usage_metrics (1 s by default). */
  usageFlushMs?: number;
  keyUseFlushMs?: number;
  billingGraceDays?: number;
  metering?: 'memory' | 'transaction' | 'off';
  /** Stripe billing (a client of a local stand-in); none: billing is off. */
  stripe?: Stripe;
  /** The per-tenant cap on concurrent transactions (the server's default when unset). */
  tenantTransactions?: TenantTransactionLimits;
  refusalFlushMs?: number;
  /** The server's logger (silent by default); e.g. one that captures lines. */
  logger?: Logger;
  /** Start a job queue on the test database (fast polling); none: runs finish in their request. */
  jobs?: Partial<JobSettings>;
};

/** Job settings for tests: quick polling and maintenance. */
export const testJobSettings = (
  db: TestDatabase,
  settings: Partial<JobSettings> = {},
): JobSettings => ({
  ...DEFAULT_JOB_SETTINGS,
  connectionString: db.url,
  pollingIntervalSeconds: 0.5,
  maintenanceIntervalSeconds: 1,
  retryDelaySeconds: 1,
  ...settings,
});

export async function startApi(db: TestDatabase, options: ApiOptions = {}): Promise<Api> {
  const jobs = options.jobs
    ? await JobQueue.start({
        settings: testJobSettings(db, options.jobs),
        pool: options.pool ?? db.pool,
        logger: createLogger('silent'),
      })
    : undefined;
  const app = await buildApp({
    jobs,
    pool: options.pool ?? db.pool,
    encryptionKey: 'encryptionKey' in options ? options.encryptionKey : TEST_ENCRYPTION_KEY,
    migrations: db.migrations,
    logger: options.logger ?? createLogger('silent'),
    apiKeyCacheTtlMs: options.apiKeyCacheTtlMs ?? 0,
    clerk: 'clerk' in options ? options.clerk : strictClerkConfig(),
    platformAdmins: new Set(options.platformAdmins ?? []),
    corsOrigins: options.corsOrigins,
    trustProxy: options.trustProxy,
    usageFlushMs: options.usageFlushMs,
    keyUseFlushMs: options.keyUseFlushMs ?? 100,
    billingGraceDays: options.billingGraceDays,
    metering: options.metering,
    stripe: options.stripe,
    tenantTransactions: options.tenantTransactions,
    refusalFlushMs: options.refusalFlushMs,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/graphql`;
  return {
    url,
    client: (key, headers = {}) =>
      new GraphQLClient(url, {
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      }),
    close: async () => {
      await app.close();
      await jobs?.stop();
    },
  };
}

export type TenantWithKeys = Tenant & {
  key: string;
  readKey: string;
  companyId: string;
  /** Its Clerk organisation (org_<slug without dashes>). */
  organizationId: string;
  /** A session token of a member of its organisation with this role (user_<role> by default). */
  session(role: 'owner' | 'admin' | 'member' | 'viewer', userId?: string): string;
};

/**
 * A fresh tenant on the Professional plan (API keys are a Professional feature), in its trial,
 * linked to a Clerk organisation, with a read-write key and a read-only key.
 */
export async function tenantWithKeys(db: TestDatabase, slug: string): Promise<TenantWithKeys> {
  const organizationId = `org_${slug.replaceAll('-', '')}`;
  const tenant = await createTenant(db.lifecycle, {
    slug,
    name: `${slug} Ltd`,
    clerkOrganizationId: organizationId,
    tier: 'professional',
  });
  const { key } = await createApiKey(db.pool, {
    tenantId: tenant.id,
    name: 'test rw',
    scopes: ['read', 'write'],
    actor: 'test',
  });
  const { key: readKey } = await createApiKey(db.pool, {
    tenantId: tenant.id,
    name: 'test ro',
    scopes: ['read'],
    actor: 'test',
  });
  const companyId = (await db.pool.oneFirst(
    sql.unsafe`SELECT id FROM ${sql.identifier([tenant.schemaName, 'companies'])}`,
  )) as string;
  return {
    ...tenant,
    key,
    readKey,
    companyId,
    organizationId,
    session: (role, userId = `user_${role}`) =>
      sessionToken({ userId, orgId: organizationId, orgSlug: slug, role }),
  };
}

export type Failure = {
  status: number;
  errors: { message: string; extensions: Record<string, unknown> }[];
};

/** The HTTP status and errors of a request expected to fail. */
export async function failure<T, V extends object>(
  client: GraphQLClient,
  document: TypedDocumentNode<T, V>,
  variables?: V,
): Promise<Failure> {
  try {
    await client.request({ document, variables } as never);
  } catch (error) {
    if (error instanceof ClientError) {
      return {
        status: error.response.status,
        errors: (error.response.errors ?? []) as Failure['errors'],
      };
    }
    throw error;
  }
  throw new Error('expected the request to fail');
}

/** The first error's code and message. */
export const firstError = (result: Failure) => ({
  status: result.status,
  code: result.errors[0]?.extensions.code,
  message: result.errors[0]?.message,
});

export type RawAnswer = {
  status: number;
  headers: Headers;
  body: {
    data?: unknown;
    errors?: { message: string; path?: unknown; extensions: Record<string, unknown> }[];
  };
};

/**
 * A raw POST of a JSON body (or of text sent as it is), for what graphql-request cannot send:
 * hostile bodies, documents built at run time, the status and headers of every answer.
 */
export async function postGraphQL(
  api: Pick<Api, 'url'>,
  key: string | undefined,
  body: unknown,
): Promise<RawAnswer> {
  const response = await fetch(api.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: RawAnswer['body'];
  try {
    parsed = JSON.parse(text) as RawAnswer['body'];
  } catch {
    parsed = { errors: [{ message: text, extensions: {} }] };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}
