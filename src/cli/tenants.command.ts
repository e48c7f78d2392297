import { Command, Option } from 'commander';
import { TIERS } from '../tenants/tiers.js';
import {
  createTenant,
  deleteTenant,
  listTenants,
  purgeTenant,
  reactivateTenant,
  restoreTenant,
  suspendTenant,
} from '../tenants/lifecycle.js';
import { printJson, printLine, printTable, tenantJson } from './output.js';
import { withRuntime } from './runtime.js';

export function tenantsCommand(): Command {
  const tenants = new Command('tenants').description(
    'create, list, suspend, reactivate, delete, restore and purge tenants',
  );

  tenants
    .command('create')
    .description('create a tenant: its row, role and schema, with every tenant migration applied')
    .requiredOption('--slug <slug>', 'URL-friendly identifier, e.g. acme')
    .requiredOption('--name <name>', 'display name, e.g. "Acme Ltd"')
    .addOption(new Option('--tier <tier>', 'subscription tier').choices(TIERS).default('starter'))
    .option('--id <uuid>', 'use this id (re-creating a tenant from a backup); a new one by default')
    .action(async (options: { slug: string; name: string; tier: string; id?: string }) => {
      await withRuntime(async ({ lifecycle }) => {
        const tenant = await createTenant(lifecycle, options);
        printJson(tenantJson(tenant));
      });
    });

  tenants
    .command('list')
    .description('list tenants with their schema version')
    .option('--json', 'print JSON instead of a table')
    .option('--all', 'include soft-deleted tenants')
    .action(async (options: { json?: boolean; all?: boolean }) => {
      await withRuntime(async ({ db }) => {
        const listing = await listTenants(db.pool, { includeDeleted: options.all });
        if (options.json) {
          printJson(
            listing.map((tenant) => ({
              ...tenantJson(tenant),
              schemaVersion: tenant.schemaVersion,
              migrationError: tenant.migrationError,
            })),
          );
          return;
        }
        if (listing.length === 0) {
          printLine('No tenants.');
          return;
        }
        printTable(
          ['SLUG', 'NAME', 'TIER', 'STATUS', 'VERSION', 'CREATED', 'DELETED'],
          listing.map((tenant) => [
            tenant.slug,
            tenant.name,
            tenant.tier,
            tenant.status,
            String(tenant.schemaVersion ?? '-'),
            tenant.createdAt.toISOString().slice(0, 10),
            tenant.deletedAt?.toISOString().slice(0, 10) ?? '',
          ]),
        );
      });
    });

  tenants
    .command('suspend')
    .description('suspend a tenant: its API keys and sessions are refused; its data is kept')
    .argument('<slug>', 'tenant slug')
    .option('--reason <text>', 'why, for the audit log (up to 500 characters)')
    .action(async (slug: string, options: { reason?: string }) => {
      await withRuntime(async ({ config, lifecycle }) => {
        const tenant = await suspendTenant(lifecycle, slug, { reason: options.reason });
        const seconds = Math.ceil(config.apiKeyCacheTtlMs / 1000);
        printLine(
          `Suspended tenant ${tenant.slug}: running servers refuse its keys and sessions within ${seconds} s; reactivate it with \`capliquify tenants reactivate ${tenant.slug}\`.`,
        );
      });
    });

  tenants
    .command('reactivate')
    .description('lift a suspension: the tenant returns to trial (while its trial lasts) or active')
    .argument('<slug>', 'tenant slug')
    .action(async (slug: string) => {
      await withRuntime(async ({ lifecycle }) => {
        const tenant = await reactivateTenant(lifecycle, slug);
        printLine(`Reactivated tenant ${tenant.slug}: its status is ${tenant.status}.`);
      });
    });

  tenants
    .command('delete')
    .description('soft-delete a tenant: its schema is kept for the retention period')
    .argument('<slug>', 'tenant slug')
    .action(async (slug: string) => {
      await withRuntime(async ({ lifecycle }) => {
        const tenant = await deleteTenant(lifecycle, slug);
        const until = new Date(tenant.deletedAt!.getTime() + lifecycle.retentionDays * 86_400_000);
        printLine(
          `Deleted tenant ${tenant.slug}. Its schema is kept until ${until.toISOString().slice(0, 10)}; restore it with \`capliquify tenants restore ${tenant.slug}\`.`,
        );
      });
    });

  tenants
    .command('restore')
    .description('restore a soft-deleted tenant')
    .argument('<slug>', 'tenant slug')
    .action(async (slug: string) => {
      await withRuntime(async ({ lifecycle }) => {
        const tenant = await restoreTenant(lifecycle, slug);
        printLine(`Restored tenant ${tenant.slug}.`);
      });
    });

  tenants
    .command('purge')
    .description("drop a deleted tenant's schema and role for good (after the retention period)")
    .argument('<slug>', 'tenant slug')
    .option('--force', 'purge even inside the retention period')
    .action(async (slug: string, options: { force?: boolean }) => {
      await withRuntime(async ({ lifecycle }) => {
        const tenant = await purgeTenant(lifecycle, slug, { force: options.force });
        printLine(`Purged tenant ${tenant.slug}: dropped schema and role ${tenant.schemaName}.`);
      });
    });

  return tenants;
}
