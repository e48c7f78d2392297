import { Command } from 'commander';
import { createApiKey, listApiKeys, revokeApiKey } from '../auth/api-keys.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { isUuid } from '../validation.js';
import { getTenant } from '../tenants/lifecycle.js';
import { printLine, printTable } from './output.js';
import { withRuntime } from './runtime.js';

export function keysCommand(): Command {
  const keys = new Command('keys').description("create, list and revoke a tenant's API keys");

  keys
    .command('create')
    .description('create an API key; the key is printed once and cannot be shown again')
    .requiredOption('--tenant <slug>', 'tenant slug')
    .requiredOption('--name <name>', 'what the key is for, e.g. "ERP sync"')
    .option('--scopes <scopes>', 'comma-separated: read, write', 'read')
    .option('--expires <date>', 'expiry, an ISO date or date-time (none by default)')
    .action(async (options: { tenant: string; name: string; scopes: string; expires?: string }) => {
      await withRuntime(async ({ db }) => {
        const tenant = await getTenant(db.pool, options.tenant);
        const expiresAt = options.expires ? new Date(options.expires) : null;
        const { key, record } = await db.pool.transaction((tx) =>
          createApiKey(tx, {
            tenantId: tenant.id,
            name: options.name,
            scopes: options.scopes.split(',').map((scope) => scope.trim()),
            expiresAt:
              expiresAt && !Number.isNaN(expiresAt.getTime())
                ? expiresAt
                : invalidDate(options.expires),
            actor: 'cli',
          }),
        );
        printLine(key);
        process.stderr.write(
          `Created key ${record.id} (${record.scopes.join(', ')}) for ${tenant.slug}. Store it now: it is not shown again.\n`,
        );
      });
    });

  keys
    .command('list')
    .description("list a tenant's keys (never their secrets)")
    .requiredOption('--tenant <slug>', 'tenant slug')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; json?: boolean }) => {
      await withRuntime(async ({ db }) => {
        const tenant = await getTenant(db.pool, options.tenant);
        const records = await listApiKeys(db.pool, tenant.id);
        if (options.json) {
          printLine(JSON.stringify(records, null, 2));
          return;
        }
        if (records.length === 0) {
          printLine('No API keys.');
          return;
        }
        const day = (date: Date | null) => date?.toISOString().slice(0, 10) ?? '';
        printTable(
          ['ID', 'NAME', 'PREFIX', 'SCOPES', 'CREATED', 'LAST USED', 'EXPIRES', 'REVOKED'],
          records.map((record) => [
            record.id,
            record.name,
            record.prefix,
            record.scopes.join(','),
            day(record.createdAt),
            day(record.lastUsedAt),
            day(record.expiresAt),
            day(record.revokedAt),
          ]),
        );
      });
    });

  keys
    .command('revoke')
    .description('revoke a key at once')
    .argument('<id>', 'key id (from keys list)')
    .action(async (id: string) => {
      await withRuntime(async ({ db }) => {
        const record = await db.pool.transaction((tx) =>
          revokeApiKey(tx, { id: validId(id), actor: 'cli' }),
        );
        printLine(`Revoked key ${record.id} (${record.name}).`);
      });
    });

  return keys;
}

function invalidDate(text: string | undefined): null {
  if (text === undefined) return null;
  throw new BadUserInputError(`Invalid --expires "${text}": use a date such as 2027-01-31.`, {
    field: 'expires',
  });
}

function validId(id: string): string {
  if (!isUuid(id)) {
    throw new NotFoundError(`No API key ${id}.`, { field: 'id' });
  }
  return id;
}
