import { Command, Option } from 'commander';
import { createApiKey, listApiKeys, revokeApiKey } from '../auth/api-keys.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { isUuid } from '../validation.js';
import { getTenant } from '../tenants/lifecycle.js';
import { printLine, printTable } from './output.js';
import { withRuntime } from './runtime.js';

export function keysCommand(): Command {
  const keys = new Command('keys').description(
    "create, list and revoke API keys: a tenant's, or platform keys for operators",
  );

  keys
    .command('create')
    .description('create an API key; the key is printed once and cannot be shown again')
    .option('--tenant <slug>', 'tenant slug (a tenant key)')
    .addOption(
      new Option(
        '--platform',
        'an operator key for the platform fields, bound to no tenant',
      ).conflicts(['tenant', 'scopes']),
    )
    .requiredOption('--name <name>', 'what the key is for, e.g. "ERP sync"')
    .option('--scopes <scopes>', 'comma-separated: read, write (tenant keys only)', 'read')
    .option('--expires <date>', 'expiry, an ISO date or date-time (none by default)')
    .action(async (options: CreateOptions, command: Command) => {
      const tenantSlug = ownerOf(options, command);
      await withRuntime(async ({ db }) => {
        const tenant = tenantSlug === null ? null : await getTenant(db.pool, tenantSlug);
        const expiresAt = options.expires ? new Date(options.expires) : null;
        const { key, record } = await db.pool.transaction((tx) =>
          createApiKey(tx, {
            tenantId: tenant?.id ?? null,
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
          tenant
            ? `Created key ${record.id} (${record.scopes.join(', ')}) for ${tenant.slug}. Store it now: it is not shown again.\n`
            : `Created platform key ${record.id}: it may use every platform field. Store it now: it is not shown again.\n`,
        );
      });
    });

  keys
    .command('list')
    .description("list a tenant's keys, or the platform keys (never their secrets)")
    .option('--tenant <slug>', 'tenant slug')
    .addOption(new Option('--platform', 'the platform keys').conflicts('tenant'))
    .option('--json', 'print JSON')
    .action(async (options: ListOptions, command: Command) => {
      const tenantSlug = ownerOf(options, command);
      await withRuntime(async ({ db }) => {
        const tenant = tenantSlug === null ? null : await getTenant(db.pool, tenantSlug);
        const records = await listApiKeys(db.pool, tenant?.id ?? null);
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

type Owner = { tenant?: string; platform?: boolean };
type CreateOptions = Owner & { name: string; scopes: string; expires?: string };
type ListOptions = Owner & { json?: boolean };

/** The tenant slug, or null for platform keys; neither is a usage error (exit 2). */
function ownerOf(options: Owner, command: Command): string | null {
  if (options.platform) return null;
  if (options.tenant === undefined) {
    command.error("error: one of '--tenant <slug>' or '--platform' is required", {
      code: 'capliquify.missingOwner',
    });
  }
  return options.tenant;
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
