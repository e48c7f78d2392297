/**
 * The environment, parsed and validated once at start-up. Nothing else reads process.env.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const integer = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

const boolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');

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
  DB_STATEMENT_TIMEOUT_MS: integer(15_000, 1),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: integer(10_000, 1),
  DB_IDLE_TIMEOUT_MS: integer(30_000, 1),
  /** A pooled connection is closed after this many checkouts, which bounds its catalog cache. */
  DB_CONNECTION_MAX_USES: integer(500, 1),
  DB_CONNECTION_MAX_AGE_MS: integer(30 * 60_000, 1),
  MIGRATE_CONCURRENCY: integer(4, 1).pipe(z.number().max(64)),
  TENANT_RETENTION_DAYS: integer(30, 0),
  /** Citus schema-based sharding opens worker connections as the tenant role, which then needs LOGIN. */
  TENANT_ROLE_LOGIN: boolean(false),
  SQL_DIR: z.string().min(1).default('sql'),
  /** How long a server trusts a verified API key before looking it up again (0: every request). */
  API_KEY_CACHE_TTL_MS: integer(30_000, 0),
  /** 32 bytes as 64 hex characters: encrypts saved API credentials (AES-256-GCM). */
  ENCRYPTION_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, { error: 'must be 64 hex characters (32 bytes)' })
    .optional(),
  /** npm start creates the demo tenant Sentia Spirits and prints a key for it. */
  DEMO_TENANT: boolean(true),
});

export type Config = {
  logLevel: z.infer<typeof EnvironmentSchema>['LOG_LEVEL'];
  host: string;
  port: number;
  databaseUrl: string | undefined;
  embedded: { dir: string; port: number; binDir?: string };
  pool: PoolSettings;
  migrateConcurrency: number;
  tenantRetentionDays: number;
  tenantRoleLogin: boolean;
  sqlDir: string;
  apiKeyCacheTtlMs: number;
  demoTenant: boolean;
  encryptionKey: Buffer | undefined;
};

export type PoolSettings = {
  maxSize: number;
  connectionTimeoutMs: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  idleTimeoutMs: number;
  maxUses: number;
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
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: e.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      idleTimeoutMs: e.DB_IDLE_TIMEOUT_MS,
      maxUses: e.DB_CONNECTION_MAX_USES,
      maxAgeMs: e.DB_CONNECTION_MAX_AGE_MS,
    },
    migrateConcurrency: e.MIGRATE_CONCURRENCY,
    tenantRetentionDays: e.TENANT_RETENTION_DAYS,
    tenantRoleLogin: e.TENANT_ROLE_LOGIN,
    sqlDir: path.resolve(projectRoot, e.SQL_DIR),
    apiKeyCacheTtlMs: e.API_KEY_CACHE_TTL_MS,
    demoTenant: e.DEMO_TENANT,
    encryptionKey: e.ENCRYPTION_KEY ? Buffer.from(e.ENCRYPTION_KEY, 'hex') : undefined,
  };
}

export const defaultPoolSettings: PoolSettings = loadConfig({}).pool;
