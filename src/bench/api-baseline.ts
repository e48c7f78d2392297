/**
 * The yardstick of `npm run bench`: a minimal node:http server that answers the benchmark's
 * operations by hand with plain `pg`. It does the same work as the real request path (API key
 * looked up by its SHA-256 hash and cached, one READ ONLY transaction per request with the same
 * LOCAL settings, the same JSON shape) with the best single query it can for each operation, and
 * nothing else: no GraphQL parsing, validation, resolvers, loaders or row validation.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import type { PoolSettings } from '../config.js';

export type Baseline = {
  url: string;
  /** client.query calls so far (key lookups, BEGIN, set_config, the query, COMMIT). */
  statements(): number;
  resetStatements(): void;
  close(): Promise<void>;
};

type KeyRow = {
  tenant_id: string;
  schema_name: string;
  revoked_at: Date | null;
  expires_at: Date | null;
  deleted_at: Date | null;
  subscription_status: string;
};

type Handler = (
  query: (text: string, values?: unknown[]) => Promise<pg.QueryResult>,
  variables: Record<string, unknown>,
) => Promise<unknown>;

const encodeCursor = (key: string, id: string) =>
  Buffer.from(JSON.stringify([key, id])).toString('base64url');

/** One statement: the page, its stock, its sales totals and its forecasts. */
const PRODUCTS_PAGE_SQL = `
  /* baselineProductsPage */
  WITH page AS (
    SELECT p.id, p.sku, p.name FROM products p ORDER BY p.name, p.id LIMIT $1::int + 1
  )
  SELECT p.id, p.sku, p.name, st.on_hand, st.reserved, st.available,
    t.quantity, t.revenue, t.net_revenue, t.orders, fc.forecasts,
    (SELECT count(*) FROM page) > $1::int AS has_next
  FROM (SELECT page.id, page.sku, page.name FROM page ORDER BY page.name, page.id LIMIT $1::int) p
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(i.quantity_on_hand), 0)::int AS on_hand,
      coalesce(sum(i.quantity_reserved), 0)::int AS reserved,
      coalesce(sum(i.quantity_available), 0)::int AS available
    FROM inventory i WHERE i.product_id = p.id
  ) st
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(s.quantity), 0)::int AS quantity,
      coalesce(sum(s.total_amount), 0)::numeric(15,2)::text AS revenue,
      coalesce(sum(s.net_revenue), 0)::numeric(15,2)::text AS net_revenue,
      count(*)::int AS orders
    FROM sales s WHERE s.product_id = p.id AND s.sale_date BETWEEN $2::date AND $3::date
  ) t
  CROSS JOIN LATERAL (
    SELECT coalesce(json_agg(json_build_object('date', f.forecast_date::text,
        'predictedValue', f.predicted_value::text)
      ORDER BY f.forecast_date, f.forecast_type, f.id), '[]'::json) AS forecasts
    FROM forecasts f WHERE f.product_id = p.id
  ) fc
  ORDER BY p.name, p.id`;

/** Channel x month, straight from sales (no join: no product column is asked for). */
const SALES_BY_CHANNEL_MONTH_SQL = `
  /* baselineSalesByChannelMonth */
  SELECT s.channel, date_trunc('month', s.sale_date::timestamp)::date::text AS month,
    sum(s.quantity)::int AS quantity, sum(s.total_amount)::text AS revenue,
    sum(s.net_revenue)::text AS net_revenue, count(*)::int AS orders
  FROM sales s
  WHERE s.sale_date BETWEEN $1::date AND $2::date
  GROUP BY 1, 2
  ORDER BY 1, 2`;

const HANDLERS: Record<string, Handler> = {
  async ProductsPage(query, variables) {
    const { rows } = await query(PRODUCTS_PAGE_SQL, [
      variables.first,
      variables.from,
      variables.to,
    ]);
    const last = rows.at(-1);
    return {
      products: {
        edges: rows.map((row) => ({
          node: {
            id: row.id,
            sku: row.sku,
            name: row.name,
            stock: { onHand: row.on_hand, reserved: row.reserved, available: row.available },
            salesTotals: {
              quantity: row.quantity,
              revenue: row.revenue,
              netRevenue: row.net_revenue,
              orders: row.orders,
            },
            forecasts: row.forecasts,
          },
        })),
        pageInfo: {
          hasNextPage: rows[0]?.has_next ?? false,
          endCursor: last ? encodeCursor(last.name, last.id) : null,
        },
      },
    };
  },

  async SalesByChannelMonth(query, variables) {
    const { rows } = await query(SALES_BY_CHANNEL_MONTH_SQL, [variables.from, variables.to]);
    return {
      salesSummary: rows.map((row) => ({
        channel: row.channel,
        month: row.month,
        quantity: row.quantity,
        revenue: row.revenue,
        netRevenue: row.net_revenue,
        orders: row.orders,
      })),
    };
  },
};

const KEY_LOOKUP_SQL = `
  /* baselineKeyLookup */
  SELECT t.id AS tenant_id, t.schema_name, k.revoked_at, k.expires_at, t.deleted_at,
    t.subscription_status
  FROM public.api_keys k JOIN public.tenants t ON t.id = k.tenant_id
  WHERE k.key_hash = $1`;

const ENTER_TENANT_SQL = `
  /* baselineEnterTenant */
  SELECT set_config('search_path', $1, true), set_config('role', $2, true),
    set_config('app.tenant_id', $3, true)`;

export async function startBaseline(options: {
  url: string;
  pool: PoolSettings;
  keyCacheTtlMs: number;
}): Promise<Baseline> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.pool.maxSize,
    maxUses: options.pool.maxUses,
    idleTimeoutMillis: options.pool.idleTimeoutMs,
    connectionTimeoutMillis: options.pool.connectionTimeoutMs,
    statement_timeout: options.pool.statementTimeoutMs,
    idle_in_transaction_session_timeout: options.pool.idleInTransactionTimeoutMs,
  });
  pool.on('error', () => {}); // an idle client's error; the next checkout gets a fresh one
  let statements = 0;
  const keys = new Map<string, { row: KeyRow | undefined; until: number }>();

  const authenticate = async (header: string | undefined): Promise<KeyRow | undefined> => {
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return undefined;
    const hash = createHash('sha256').update(match[1]!).digest();
    const cacheKey = hash.toString('base64');
    const now = Date.now();
    let cached = keys.get(cacheKey);
    if (!cached || cached.until <= now) {
      statements += 1;
      const { rows } = await pool.query<KeyRow>(KEY_LOOKUP_SQL, [hash]);
      cached = { row: rows[0], until: now + options.keyCacheTtlMs };
      keys.set(cacheKey, cached);
    }
    const row = cached.row;
    if (!row || row.revoked_at || (row.expires_at && row.expires_at.getTime() <= now)) return;
    if (row.deleted_at || row.subscription_status === 'suspended') return;
    return row;
  };

  const run = async (tenant: KeyRow, handler: Handler, variables: Record<string, unknown>) => {
    const client = await pool.connect();
    const query = (text: string, values?: unknown[]) => {
      statements += 1;
      return client.query(text, values);
    };
    try {
      await query('BEGIN READ ONLY');
      await query(ENTER_TENANT_SQL, [
        `"${tenant.schema_name}", public`,
        tenant.schema_name,
        tenant.tenant_id,
      ]);
      const data = await handler(query, variables);
      await query('COMMIT');
      client.release();
      return data;
    } catch (error) {
      client.release(error instanceof Error ? error : true); // the connection is discarded
      throw error;
    }
  };

  const send = (response: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            operationName?: string;
            variables?: Record<string, unknown>;
          };
          const handler = HANDLERS[body.operationName ?? ''];
          if (!handler) return send(response, 400, { errors: [{ message: 'unknown operation' }] });
          const tenant = await authenticate(request.headers.authorization);
          if (!tenant) return send(response, 401, { errors: [{ message: 'Invalid API key.' }] });
          send(response, 200, { data: await run(tenant, handler, body.variables ?? {}) });
        } catch {
          send(response, 500, { errors: [{ message: 'Internal server error' }] });
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/graphql`,
    statements: () => statements,
    resetStatements: () => void (statements = 0),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}
