/**
 * The environment, parsed and validated once at start-up. Nothing else reads process.env.
 */
import { createPublicKey } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const integer = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

const boolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** The roles of public.user_role, which a Clerk organisation role maps to. */
export const USER_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

const DEFAULT_CLERK_ROLE_MAP =
  '{"owner":"owner","admin":"admin","member":"member","basic_member":"member","viewer":"viewer"}';

/** Clerk role names without the `org:` prefix that v1 tokens carry ("org:admin" is "admin"). */
export const clerkRoleName = (role: string) => role.replace(/^org:/, '');

/** A PEM public key whose `\n` escapes (one-line env values) become newlines; RSA-2048 only. */
const clerkJwtKey = z
  .string()
  .transform((value) => value.replace(/\\n/g, '\n').trim())
  .superRefine((pem, ctx) => {
    let problem: string | undefined;
    if (!pem.startsWith('-----BEGIN PUBLIC KEY-----')) {
      problem = 'must be a PEM public key starting with -----BEGIN PUBLIC KEY-----';
    } else {
      try {
        const key = createPublicKey(pem);
        if (key.asymmetricKeyType !== 'rsa' || key.asymmetricKeyDetails?.modulusLength !== 2048) {
          problem =
            'must be an RSA-2048 public key (the only kind Clerk issues and @clerk/backend reads)';
        }
      } catch {
        problem = 'is not a readable PEM public key';
      }
    }
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Comma-separated origins such as https://app.example.com, compared exactly with a token's `azp`. */
const origins = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin !== ''),
  )
  .superRefine((list, ctx) => {
    if (list.length === 0) ctx.addIssue({ code: 'custom', message: 'lists no origin' });
    for (const origin of list) {
      let valid = false;
      try {
        const url = new URL(origin);
        valid = (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin;
      } catch {
        valid = false;
      }
      if (!valid) {
        ctx.addIssue({
          code: 'custom',
          message: `"${origin}" is not an origin: use scheme://host[:port], without a path or a trailing slash`,
        });
      }
    }
  });

/** A JSON object from Clerk role name to one of USER_ROLES, without a prototype to confuse lookups. */
const roleMap = z
  .string()
  .default(DEFAULT_CLERK_ROLE_MAP)
  .transform((value, ctx): Readonly<Record<string, UserRole>> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object such as {"admin":"admin"}' });
      return z.NEVER;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object such as {"admin":"admin"}' });
      return z.NEVER;
    }
    const map: Record<string, UserRole> = Object.create(null);
    for (const [clerkRole, role] of Object.entries(parsed)) {
      const name = clerkRoleName(clerkRole.trim());
      if (name === '') {
        ctx.addIssue({ code: 'custom', message: 'a Clerk role name is empty' });
      } else if (!(USER_ROLES as readonly unknown[]).includes(role)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${clerkRole}" maps to ${JSON.stringify(role)}; use one of ${USER_ROLES.join(', ')}`,
        });
      } else {
        map[name] = role as UserRole;
      }
    }
    return Object.freeze(map);
  });

const EnvironmentSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: integer(4000).pipe(z.number().max(65535)),
  /** When unset, an embedded PostgreSQL is started with its data in EMBEDDED_PG_DIR. */
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  EMBEDDED_PG_DIR: z.string().min(1).default('.data/postgres'),
  EMBEDDED_PG_PORT: integer(54329, 1).pipe(z.number().max(65535)),
  /** postgres and initdb from another build, e.g. another major version; the npm package's by default. */
  EMBEDDED_PG_BIN_DIR: z.string().min(1).optional(),
  /** At least 2: a migration run holds one connection for its lock while others do the work. */
  DB_POOL_MAX: integer(10, 2),
  DB_CONNECTION_TIMEOUT_MS: integer(5_000, 1),
  /** How long a request (or any pool user) waits for a pooled connection before a 503. */
  DB_ACQUIRE_TIMEOUT_MS: integer(5_000, 1),
  /**
   * Transactions one tenant may have open at once on this server; unset: half of DB_POOL_MAX, so
   * one tenant's stalled requests leave the other half of the pool to everyone else.
   */
  DB_TENANT_MAX_TRANSACTIONS: z.coerce.number().int().min(1).optional(),
  /** How long a tenant's request over that cap waits for a turn before RATE_LIMITED: a burst waits, a stall is refused. */
  DB_TENANT_WAIT_MS: integer(2_000, 0),
  DB_STATEMENT_TIMEOUT_MS: integer(15_000, 1),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: integer(10_000, 1),
  DB_IDLE_TIMEOUT_MS: integer(30_000, 1),
  /**
   * A pooled connection is closed once it has served this many distinct tenants: each PostgreSQL
   * backend caches the catalog entries of every tenant schema it visits and never evicts them, so
   * this bounds its memory (docs/architecture.md, "Connections and the catalog cache").
   */
  DB_CONNECTION_MAX_TENANTS: integer(500, 1),
  /** A backstop for anything else a long-lived backend accumulates: closed after this many checkouts. */
  DB_CONNECTION_MAX_USES: integer(100_000, 1),
  DB_CONNECTION_MAX_AGE_MS: integer(30 * 60_000, 1),
  MIGRATE_CONCURRENCY: integer(4, 1).pipe(z.number().max(64)),
  TENANT_RETENTION_DAYS: integer(30, 0),
  /** Citus schema-based sharding opens worker connections as the tenant role, which then needs LOGIN. */
  TENANT_ROLE_LOGIN: boolean(false),
  SQL_DIR: z.string().min(1).default('sql'),
  /** How long a server trusts a verified API key before looking it up again (0: every request). */
  API_KEY_CACHE_TTL_MS: integer(30_000, 0),
  /** How many API keys (and, apart, Clerk organisations) a server keeps cached. */
  API_KEY_CACHE_SIZE: integer(50_000, 1),
  /** How often a server writes the API key uses it noted to api_keys.last_used_at. */
  API_KEY_USE_FLUSH_MS: integer(10_000, 10),
  /** 32 bytes as 64 hex characters: encrypts saved API credentials (AES-256-GCM). */
  ENCRYPTION_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, { error: 'must be 64 hex characters (32 bytes)' })
    .optional(),
  /** npm start creates the demo tenant Sentia Spirits and prints a key for it. */
  DEMO_TENANT: boolean(true),
  /** Clerk's PEM public key (Dashboard → API keys): verifies session tokens without a network call. */
  CLERK_JWT_KEY: clerkJwtKey.optional(),
  /** Clerk's secret key (sk_test_… or sk_live_…): fetches the JWKS when CLERK_JWT_KEY is unset. */
  CLERK_SECRET_KEY: z
    .string()
    .regex(/^sk_(test|live)_\S+$/, { error: 'must be a Clerk secret key (sk_test_… or sk_live_…)' })
    .optional(),
  /** Comma-separated front-end origins a session token's `azp` must be one of (unchecked when unset). */
  CLERK_AUTHORIZED_PARTIES: origins.optional(),
  /** The Clerk instance's issuer (e.g. https://clerk.example.com) a token's `iss` must equal. */
  CLERK_ISSUER: z
    .url({
      protocol: /^https?$/,
      error: 'must be an http(s) URL such as https://clerk.example.com',
    })
    .transform((value) => value.replace(/\/+$/, ''))
    .optional(),
  /** How far the token's exp, nbf and iat may be off against this server's clock. */
  CLERK_CLOCK_SKEW_MS: integer(5_000, 0).pipe(z.number().max(300_000)),
  /** JSON object from Clerk organisation role (with or without `org:`) to owner|admin|member|viewer. */
  CLERK_ROLE_MAP: roleMap,
  /** A session whose organisation has no tenant yet creates it (as organization.created would). */
  CLERK_PROVISION_ON_SESSION: boolean(true),
  /** The Clerk webhook endpoint's signing secret (whsec_…); POST /webhooks/clerk is off without it. */
  CLERK_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]+$/, { error: 'must be a Svix signing secret (whsec_…)' })
    .optional(),
  /** Comma-separated Clerk user ids (user_…) of platform operators. */
  PLATFORM_ADMIN_USER_IDS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
    )
    .pipe(
      z.array(z.string().regex(/^user_[A-Za-z0-9]+$/, { error: 'lists an id that is not user_…' })),
    )
    .optional(),
  /** Browser origins allowed to call the API (CORS); CLERK_AUTHORIZED_PARTIES when unset. */
  CORS_ORIGINS: origins.optional(),
  /** Stripe's secret key (sk_… or a restricted rk_…); billing (checkout, portal, webhooks) is off without it. */
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\S+$/, {
      error: 'must be a Stripe secret key (sk_test_…, sk_live_…, or a restricted rk_…)',
    })
    .optional(),
  /** The Stripe webhook endpoint's signing secret (whsec_…); POST /webhooks/stripe is off without it. */
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_\S+$/, { error: 'must be a Stripe webhook signing secret (whsec_…)' })
    .optional(),
  /** The front end's base URL: Stripe Checkout and the billing portal send customers back to it. */
  APP_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://app.example.com' })
    .transform((value) => value.replace(/\/+$/, ''))
    .default('http://localhost:3000'),
  /** Days a tenant whose payment failed (PAST_DUE) keeps writing before it becomes read-only. */
  BILLING_GRACE_DAYS: integer(7, 0).pipe(z.number().max(90)),
  /** How often each server writes the API requests it counted to usage_metrics. */
  USAGE_FLUSH_MS: integer(1_000, 50).pipe(z.number().max(60_000)),
  /** Start the job queue (pg-boss): background forecast runs and the fleet-wide chores. */
  JOBS_ENABLED: boolean(true),
  /** Work the queue in this process too (false: this server only sends jobs; run `capliquify worker`). */
  JOBS_WORK: boolean(true),
  /** A forecast job still running after this many seconds is retried (its worker is taken for dead). */
  FORECAST_JOB_TIMEOUT_S: integer(900, 5).pipe(z.number().max(86_400)),
  /** Retries of a failed or expired forecast job before its run is FAILED. */
  JOBS_RETRY_LIMIT: integer(2, 0).pipe(z.number().max(10)),
  /** How often an idle worker asks the queue for work. */
  JOBS_POLL_S: integer(2, 1).pipe(z.number().max(60)),
  /** How often the queue expires, retries and archives jobs. */
  JOBS_MAINTENANCE_S: integer(60, 1).pipe(z.number().max(3_600)),
  /** How often the fleet refreshes the usage snapshots (users, products, storage), in ms rounded to whole minutes; 0: never. */
  USAGE_SNAPSHOT_MS: integer(600_000, 0).pipe(
    z
      .number()
      .max(86_400_000)
      .refine((value) => value === 0 || value >= 1_000, {
        error: 'must be 0 (off) or at least 1000',
      }),
  ),
  /**
   * Whether client addresses come from X-Forwarded-For: false, true (any proxy), or
   * comma-separated proxy addresses/CIDRs.
   */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((value): boolean | string[] => {
      const text = value.trim();
      if (['true', '1', 'yes'].includes(text)) return true;
      if (['false', '0', 'no'].includes(text)) return false;
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    }),
});

/** Settings that only make sense when Clerk sessions are on (a key is set). */
const CLERK_DEPENDENT = [
  'CLERK_AUTHORIZED_PARTIES',
  'CLERK_PROVISION_ON_SESSION',
  'CLERK_WEBHOOK_SECRET',
  'CLERK_ISSUER',
  'CLERK_CLOCK_SKEW_MS',
  'CLERK_ROLE_MAP',
] as const;

export type Config = {
  logLevel: z.infer<typeof EnvironmentSchema>['LOG_LEVEL'];
  host: string;
  port: number;
  databaseUrl: string | undefined;
  embedded: { dir: string; port: number; binDir?: string };
  pool: PoolSettings;
  /** The per-tenant cap on concurrent request transactions (DB_TENANT_*). */
  tenantTransactions: TenantTransactionLimits;
  migrateConcurrency: number;
  tenantRetentionDays: number;
  tenantRoleLogin: boolean;
  sqlDir: string;
  apiKeyCacheTtlMs: number;
  apiKeyCacheSize: number;
  keyUseFlushMs: number;
  demoTenant: boolean;
  encryptionKey: Buffer | undefined;
  /** Clerk sessions; undefined (off) when neither CLERK_JWT_KEY nor CLERK_SECRET_KEY is set. */
  clerk: ClerkConfig | undefined;
  /** Clerk user ids of platform operators (empty: operators use platform keys only). */
  platformAdmins: ReadonlySet<string>;
  /** Browser origins allowed by CORS (none: no CORS headers). */
  corsOrigins: string[];
  /** fastify's trustProxy: where client IPs (for the audit log) come from. */
  trustProxy: boolean | string[];
  billingGraceDays: number;
  usageFlushMs: number;
  /** Stripe billing; undefined (off) when STRIPE_SECRET_KEY is not set. */
  stripe: StripeConfig | undefined;
  /** The front end's base URL, without a trailing slash (APP_URL). */
  appUrl: string;
  /** 0: the fleet never refreshes usage snapshots on a schedule. */
  usageSnapshotMs: number;
  jobs: {
    enabled: boolean;
    work: boolean;
    forecastTimeoutSeconds: number;
    retryLimit: number;
    pollingIntervalSeconds: number;
    maintenanceIntervalSeconds: number;
  };
};

export type StripeConfig = {
  /** Never logged. */
  secretKey: string;
  /** Verifies POST /webhooks/stripe; undefined: the endpoint answers 404. */
  webhookSecret: string | undefined;
};

export type ClerkConfig = {
  /** PEM public key: networkless verification; preferred over secretKey when both are set. */
  jwtKey: string | undefined;
  secretKey: string | undefined;
  /** Origins a token's `azp` must be one of; undefined: `azp` is not checked. */
  authorizedParties: string[] | undefined;
  /** The exact `iss` a token must carry; undefined: `iss` is not checked. */
  issuer: string | undefined;
  clockSkewMs: number;
  /** Clerk role name without `org:` → our role; an own-property lookup (no prototype). */
  roleMap: Readonly<Record<string, UserRole>>;
  /** Sessions of organisations without a tenant provision one (else they are refused). */
  provisionOnSession: boolean;
  /** Verifies POST /webhooks/clerk; undefined: the endpoint answers 404. */
  webhookSecret: string | undefined;
};

export type TenantTransactionLimits = {
  /** At most this many of one tenant's request transactions at once, per server. */
  max: number;
  /** How long a request over the cap waits for one to end. */
  waitMs: number;
};

export type PoolSettings = {
  maxSize: number;
  connectionTimeoutMs: number;
  /** How long a checkout waits for a free connection before ServiceUnavailableError. */
  acquireTimeoutMs: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  idleTimeoutMs: number;
  maxUses: number;
  maxTenants: number;
  maxAgeMs: number;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The project root: one level above src/ or dist/. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blanksRemoved = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = EnvironmentSchema.safeParse(blanksRemoved);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const clerkOn = e.CLERK_JWT_KEY !== undefined || e.CLERK_SECRET_KEY !== undefined;
  const orphans = CLERK_DEPENDENT.filter((name) => !clerkOn && blanksRemoved[name] !== undefined);
  if (orphans.length > 0) {
    throw new ConfigError(
      orphans.map(
        (name) => `${name}: set CLERK_JWT_KEY or CLERK_SECRET_KEY too, or Clerk stays off`,
      ),
    );
  }
  if (e.STRIPE_WEBHOOK_SECRET !== undefined && e.STRIPE_SECRET_KEY === undefined) {
    throw new ConfigError([
      'STRIPE_WEBHOOK_SECRET: set STRIPE_SECRET_KEY too, or billing (and its webhook) stays off',
    ]);
  }
  return {
    logLevel: e.LOG_LEVEL,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    embedded: {
      dir: path.resolve(projectRoot, e.EMBEDDED_PG_DIR),
      port: e.EMBEDDED_PG_PORT,
      binDir: e.EMBEDDED_PG_BIN_DIR && path.resolve(projectRoot, e.EMBEDDED_PG_BIN_DIR),
    },
    pool: {
      maxSize: e.DB_POOL_MAX,
      connectionTimeoutMs: e.DB_CONNECTION_TIMEOUT_MS,
      acquireTimeoutMs: e.DB_ACQUIRE_TIMEOUT_MS,
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: e.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      idleTimeoutMs: e.DB_IDLE_TIMEOUT_MS,
      maxUses: e.DB_CONNECTION_MAX_USES,
      maxTenants: e.DB_CONNECTION_MAX_TENANTS,
      maxAgeMs: e.DB_CONNECTION_MAX_AGE_MS,
    },
    tenantTransactions: {
      max: e.DB_TENANT_MAX_TRANSACTIONS ?? Math.max(1, Math.floor(e.DB_POOL_MAX / 2)),
      waitMs: e.DB_TENANT_WAIT_MS,
    },
    migrateConcurrency: e.MIGRATE_CONCURRENCY,
    tenantRetentionDays: e.TENANT_RETENTION_DAYS,
    tenantRoleLogin: e.TENANT_ROLE_LOGIN,
    sqlDir: path.resolve(projectRoot, e.SQL_DIR),
    apiKeyCacheTtlMs: e.API_KEY_CACHE_TTL_MS,
    apiKeyCacheSize: e.API_KEY_CACHE_SIZE,
    keyUseFlushMs: e.API_KEY_USE_FLUSH_MS,
    demoTenant: e.DEMO_TENANT,
    encryptionKey: e.ENCRYPTION_KEY ? Buffer.from(e.ENCRYPTION_KEY, 'hex') : undefined,
    clerk: clerkOn
      ? {
          jwtKey: e.CLERK_JWT_KEY,
          secretKey: e.CLERK_SECRET_KEY,
          authorizedParties: e.CLERK_AUTHORIZED_PARTIES,
          issuer: e.CLERK_ISSUER,
          clockSkewMs: e.CLERK_CLOCK_SKEW_MS,
          roleMap: e.CLERK_ROLE_MAP,
          provisionOnSession: e.CLERK_PROVISION_ON_SESSION,
          webhookSecret: e.CLERK_WEBHOOK_SECRET,
        }
      : undefined,
    platformAdmins: new Set(e.PLATFORM_ADMIN_USER_IDS ?? []),
    corsOrigins: e.CORS_ORIGINS ?? e.CLERK_AUTHORIZED_PARTIES ?? [],
    trustProxy: e.TRUST_PROXY,
    billingGraceDays: e.BILLING_GRACE_DAYS,
    usageFlushMs: e.USAGE_FLUSH_MS,
    stripe: e.STRIPE_SECRET_KEY
      ? { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET }
      : undefined,
    appUrl: e.APP_URL,
    usageSnapshotMs: e.USAGE_SNAPSHOT_MS,
    jobs: {
      enabled: e.JOBS_ENABLED,
      work: e.JOBS_WORK,
      forecastTimeoutSeconds: e.FORECAST_JOB_TIMEOUT_S,
      retryLimit: e.JOBS_RETRY_LIMIT,
      pollingIntervalSeconds: e.JOBS_POLL_S,
      maintenanceIntervalSeconds: e.JOBS_MAINTENANCE_S,
    },
  };
}

export const defaultPoolSettings: PoolSettings = loadConfig({}).pool;
export const defaultTenantTransactions: TenantTransactionLimits = loadConfig({}).tenantTransactions;
