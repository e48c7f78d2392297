/**
 * Stripe billing on the real server and a real PostgreSQL: startCheckout and billingPortal for a
 * tenant's OWNER against a local stand-in for Stripe's API (test/support/stripe.ts, which records
 * what the SDK sent), and POST /webhooks/stripe with deliveries signed by the SDK's own
 * generateTestHeaderString: each event's effect on tier, limits, status and past_due_since, one
 * effect per event id, late events that change nothing, and unverified deliveries that change
 * nothing at all.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { GraphQLClient } from 'graphql-request';
import { sql } from 'slonik';
import Stripe from 'stripe';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { buildApp } from '../src/server/app.js';
import {
  BillingPortalDocument,
  CreateProductDocument,
  StartCheckoutDocument,
  ViewerDocument,
} from './generated/graphql.js';
import {
  failure,
  firstError,
  startApi,
  tenantWithKeys,
  TEST_ENCRYPTION_KEY,
  type Api,
  type TenantWithKeys,
} from './support/api.js';
import { strictClerkConfig } from './support/clerk.js';
import { applyTier } from '../src/billing/subscriptions.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startFakeStripe, type FakeStripe } from './support/stripe.js';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const APP_URL = 'https://app.example.com';

let db: TestDatabase;
let fake: FakeStripe;
let close: () => Promise<void>;
let graphqlUrl: string;
let webhookUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeStripe();
  // Credential caching on: each webhook effect must also make this server forget the tenant.
  const app = await buildApp({
    pool: db.pool,
    migrations: db.migrations,
    logger: createLogger('silent'),
    apiKeyCacheTtlMs: 60_000,
    encryptionKey: TEST_ENCRYPTION_KEY,
    clerk: strictClerkConfig(),
    stripe: fake.client(),
    stripeWebhookSecret: SECRET,
    appUrl: APP_URL,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  graphqlUrl = `http://127.0.0.1:${port}/graphql`;
  webhookUrl = `http://127.0.0.1:${port}/webhooks/stripe`;
  close = () => app.close();
});

afterAll(async () => {
  await close?.();
  await fake?.close();
  await db?.drop();
});

beforeEach(() => {
  fake.reset();
});

const unique = () => randomBytes(4).toString('hex');
const client = (credential: string) =>
  new GraphQLClient(graphqlUrl, { headers: { authorization: `Bearer ${credential}` } });
/** A fresh tenant (TRIAL, starter unless told) with keys and sessions. */
async function newTenant(tier: 'starter' | 'professional' = 'starter') {
  // tenantWithKeys makes a Professional tenant (its keys need the plan); then the tier asked for.
  const tenant = await tenantWithKeys(db, `bill-${unique()}`);
  await applyTier(db.pool, tenant.id, tier);
  return tenant;
}
const nowSeconds = () => Math.floor(Date.now() / 1000);
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const today = () => new Date().toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

const BillingRow = z.object({
  tier: z.string(),
  status: z.string(),
  max_users: z.number().nullable(),
  max_entities: z.number().nullable(),
  max_storage_mb: z.number().nullable(),
  past_due_since: z.string().nullable(),
  suspended_reason: z.string().nullable(),
  stripe_customer_id: z.string().nullable(),
  trial_ends_at: z.string().nullable(),
});

const billingOf = (tenantId: string) =>
  db.pool.one(sql.type(BillingRow)`
    SELECT subscription_tier::text AS tier, subscription_status::text AS status, max_users,
      max_entities, max_storage_mb,
      to_char(past_due_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS past_due_since,
      suspended_reason, stripe_customer_id,
      to_char(trial_ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS trial_ends_at
    FROM public.tenants WHERE id = ${tenantId}`);

const SubscriptionRow = z.object({
  tenant_id: z.string(),
  tier: z.string(),
  status: z.string(),
  billing_cycle: z.string(),
  stripe_customer_id: z.string().nullable(),
  stripe_price_id: z.string().nullable(),
  price_lookup_key: z.string().nullable(),
  amount_cents: z.number().nullable(),
  currency: z.string().nullable(),
  current_period_start: z.string().nullable(),
  current_period_end: z.string().nullable(),
  cancel_at_period_end: z.boolean(),
  trial_end: z.string().nullable(),
  canceled_at: z.string().nullable(),
  last_event_at: z.string().nullable(),
});

const utc = (column: string) =>
  sql.fragment`to_char(${sql.identifier([column])} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const subscriptionOf = (stripeSubscriptionId: string) =>
  db.pool.maybeOne(sql.type(SubscriptionRow)`
    SELECT tenant_id, subscription_tier::text AS tier, status::text, billing_cycle::text,
      stripe_customer_id, stripe_price_id, price_lookup_key, amount_cents, currency::text,
      ${utc('current_period_start')} AS current_period_start,
      ${utc('current_period_end')} AS current_period_end, cancel_at_period_end,
      ${utc('trial_end')} AS trial_end, ${utc('canceled_at')} AS canceled_at,
      ${utc('last_event_at')} AS last_event_at
    FROM public.subscriptions WHERE stripe_subscription_id = ${stripeSubscriptionId}`);

const AuditRow = z.object({
  tenant_id: z.string().nullable(),
  actor: z.string().nullable(),
  action: z.string(),
  resource_type: z.string().nullable(),
  resource_id: z.string().nullable(),
  changes: z.unknown(),
  metadata: z.unknown(),
  success: z.boolean(),
  severity: z.string(),
  error_message: z.string().nullable(),
});

const auditOf = (tenantId: string | null, actionPrefix = '') =>
  db.pool.any(sql.type(AuditRow)`
    SELECT tenant_id, actor, action, resource_type, resource_id, changes, metadata, success,
      severity::text, error_message
    FROM public.audit_logs
    WHERE tenant_id IS NOT DISTINCT FROM ${tenantId} AND action LIKE ${`${actionPrefix}%`}
    ORDER BY created_at, id`);

const EventRow = z.object({ type: z.string(), tenant_id: z.string().nullable() });
const eventRecorded = (id: string) =>
  db.pool.maybeOne(sql.type(EventRow)`
    SELECT type, tenant_id FROM public.stripe_events WHERE id = ${id}`);

// ---------------------------------------------------------------------------------------------
// Stripe's objects and deliveries (shapes of API version 2026-10-28 and, where they moved, the
// pre-2025 ones)
// ---------------------------------------------------------------------------------------------

type Shape = 'current' | 'legacy';

type SubscriptionOptions = {
  id: string;
  customer: string;
  tenantId?: string | null;
  status?: string;
  lookupKey?: string | null;
  unitAmount?: number;
  trialEnd?: number | null;
  canceledAt?: number | null;
  cancelAtPeriodEnd?: boolean;
  shape?: Shape;
};

const PERIOD_START = 1_767_225_600; // 2026-01-01T00:00:00Z
const PERIOD_END = 1_769_904_000; // 2026-02-01T00:00:00Z

function subscription(options: SubscriptionOptions) {
  const lookupKey = options.lookupKey === undefined ? 'professional_monthly' : options.lookupKey;
  const period = { current_period_start: PERIOD_START, current_period_end: PERIOD_END };
  const shape = options.shape ?? 'current';
  return {
    id: options.id,
    object: 'subscription',
    customer: options.customer,
    status: options.status ?? 'active',
    metadata: options.tenantId ? { tenant_id: options.tenantId } : {},
    currency: 'usd',
    cancel_at_period_end: options.cancelAtPeriodEnd ?? false,
    cancel_at: null,
    canceled_at: options.canceledAt ?? null,
    trial_end: options.trialEnd ?? null,
    livemode: false,
    items: {
      object: 'list',
      has_more: false,
      data: [
        {
          id: `si_${unique()}`,
          object: 'subscription_item',
          quantity: 1,
          price: {
            id: `price_${lookupKey ?? 'custom'}`,
            object: 'price',
            lookup_key: lookupKey,
            unit_amount: options.unitAmount ?? 19_900,
            currency: 'usd',
            recurring: { interval: lookupKey?.endsWith('annual') ? 'year' : 'month' },
          },
          ...(shape === 'current' ? period : {}),
        },
      ],
    },
    ...(shape === 'legacy' ? period : {}),
  };
}

function invoice(options: {
  subscriptionId: string | null;
  customer: string;
  tenantId?: string | null;
  shape?: Shape;
}) {
  const metadata = options.tenantId ? { tenant_id: options.tenantId } : {};
  const base = {
    id: `in_${unique()}`,
    object: 'invoice',
    customer: options.customer,
    amount_due: 19_900,
    currency: 'usd',
    livemode: false,
  };
  if ((options.shape ?? 'current') === 'legacy') {
    return {
      ...base,
      subscription: options.subscriptionId,
      subscription_details: { metadata },
    };
  }
  return {
    ...base,
    parent: options.subscriptionId
      ? {
          type: 'subscription_details',
          quote_details: null,
          subscription_details: { subscription: options.subscriptionId, metadata },
        }
      : null,
  };
}

function checkoutSession(options: {
  tenantId: string;
  customer: string;
  subscriptionId: string;
  tier?: string;
  cycle?: string;
}) {
  return {
    id: `cs_test_${unique()}`,
    object: 'checkout.session',
    mode: 'subscription',
    status: 'complete',
    payment_status: 'paid',
    customer: options.customer,
    subscription: options.subscriptionId,
    client_reference_id: options.tenantId,
    metadata: {
      tenant_id: options.tenantId,
      tier: options.tier ?? 'professional',
      billing_cycle: options.cycle ?? 'annual',
    },
    livemode: false,
  };
}

type StripeEventBody = { id: string; type: string; created: number };

const event = (type: string, object: unknown, created = nowSeconds()) => ({
  id: `evt_${unique()}${unique()}`,
  object: 'event',
  api_version: '2026-10-28.endive',
  type,
  created,
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  data: { object },
});

type Delivery = {
  secret?: string;
  /** The signature's time, in Unix seconds. */
  timestamp?: number;
  omitSignature?: boolean;
  /** Sent instead of the signed body (a tampered delivery). */
  sendBody?: string;
};

type Answer = { status: number; body: Record<string, unknown> };

/** POSTs an event signed by the SDK's own generateTestHeaderString, as Stripe delivers it. */
async function deliver(body: StripeEventBody, delivery: Delivery = {}): Promise<Answer> {
  const payload = JSON.stringify(body);
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: delivery.secret ?? SECRET,
    timestamp: delivery.timestamp ?? nowSeconds(),
  });
  const response = await fetch(webhookUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      ...(delivery.omitSignature ? {} : { 'stripe-signature': signature }),
    },
    body: delivery.sendBody ?? payload,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A tenant that already bought a plan: linked to a Stripe customer and a subscription. */
async function subscribedTenant(): Promise<
  TenantWithKeys & { customer: string; subscriptionId: string }
> {
  const tenant = await newTenant();
  const customer = `cus_${unique()}`;
  await db.pool.query(sql.unsafe`
    UPDATE public.tenants SET stripe_customer_id = ${customer} WHERE id = ${tenant.id}`);
  return { ...tenant, customer, subscriptionId: `sub_${unique()}` };
}

const subscriptionEvent = (
  type: string,
  tenant: { id: string; customer: string; subscriptionId: string },
  options: Partial<SubscriptionOptions> = {},
  created = nowSeconds(),
) =>
  event(
    type,
    subscription({
      id: tenant.subscriptionId,
      customer: tenant.customer,
      tenantId: tenant.id,
      ...options,
    }),
    created,
  );

const invoiceEvent = (
  type: 'invoice.paid' | 'invoice.payment_failed',
  tenant: { id: string; customer: string; subscriptionId: string },
  options: { shape?: Shape; tenantId?: string | null } = {},
  created = nowSeconds(),
) =>
  event(
    type,
    invoice({
      subscriptionId: tenant.subscriptionId,
      customer: tenant.customer,
      tenantId: options.tenantId === undefined ? tenant.id : options.tenantId,
      shape: options.shape,
    }),
    created,
  );

const productInput = () => ({ input: { sku: `SKU-${unique()}`, name: 'Gin 70cl' } });

// ---------------------------------------------------------------------------------------------
// startCheckout and billingPortal
// ---------------------------------------------------------------------------------------------

describe('startCheckout', () => {
  test('an OWNER gets a Checkout URL; Stripe is asked for the price of <tier>_<cycle>, the tenant’s customer, its metadata and our return URLs', async () => {
    const tenant = await newTenant();
    const result = await client(tenant.session('owner')).request(StartCheckoutDocument, {
      tier: 'PROFESSIONAL',
      billingCycle: 'MONTHLY',
    });
    const session = result.startCheckout;
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.url).toBe(`https://checkout.stripe.com/c/pay/${session.id}`);
    expect(new Date(session.expiresAt).getTime()).toBeGreaterThan(Date.now() + 86_000_000);

    const [priceLookup] = fake.calls('GET', '/v1/prices');
    expect(priceLookup?.query).toMatchObject({
      'lookup_keys[0]': 'professional_monthly',
      active: 'true',
    });
    expect(priceLookup?.authorization).toBe('Bearer sk_test_capliquify_fake');

    const customers = fake.calls('POST', '/v1/customers');
    expect(customers).toHaveLength(1);
    expect(customers[0]!.idempotencyKey).toBe(`customer:${tenant.id}`);
    expect(customers[0]!.form).toMatchObject({
      name: tenant.name,
      'metadata[tenant_id]': tenant.id,
    });
    const { stripe_customer_id: customer } = await billingOf(tenant.id);
    expect(customer).toMatch(/^cus_test/);

    const checkouts = fake.calls('POST', '/v1/checkout/sessions');
    expect(checkouts).toHaveLength(1);
    expect(checkouts[0]!.idempotencyKey).toBe(
      `checkout:${tenant.id}:professional:monthly:${today()}`,
    );
    expect(checkouts[0]!.form).toEqual({
      mode: 'subscription',
      customer,
      'line_items[0][price]': 'price_professional_monthly',
      'line_items[0][quantity]': '1',
      client_reference_id: tenant.id,
      'metadata[tenant_id]': tenant.id,
      'metadata[tier]': 'professional',
      'metadata[billing_cycle]': 'monthly',
      'subscription_data[metadata][tenant_id]': tenant.id,
      success_url: `${APP_URL}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${APP_URL}/billing?checkout=cancelled`,
    });

    // Buying is Stripe's to confirm: nothing about the plan changes yet.
    expect(await billingOf(tenant.id)).toMatchObject({ tier: 'starter', status: 'trial' });
    const audit = await auditOf(tenant.id, 'billing.');
    expect([...audit].sort((a, b) => a.action.localeCompare(b.action))).toEqual([
      expect.objectContaining({
        action: 'billing.checkout_started',
        actor: 'user:user_owner',
        resource_type: 'checkout_session',
        resource_id: session.id,
        changes: { tier: 'professional', cycle: 'monthly' },
        success: true,
      }),
      expect.objectContaining({
        action: 'billing.customer_created',
        actor: 'user:user_owner',
        resource_type: 'stripe_customer',
        resource_id: customer,
        success: true,
      }),
    ]);
  });

  test('the customer is created once: a second call, and two concurrent calls, reuse it', async () => {
    const tenant = await newTenant();
    const owner = client(tenant.session('owner'));
    await owner.request(StartCheckoutDocument, { tier: 'PROFESSIONAL', billingCycle: 'MONTHLY' });
    await owner.request(StartCheckoutDocument, { tier: 'STARTER', billingCycle: 'ANNUAL' });
    expect(fake.calls('POST', '/v1/customers')).toHaveLength(1);
    const { stripe_customer_id: customer } = await billingOf(tenant.id);
    const checkouts = fake.calls('POST', '/v1/checkout/sessions');
    expect(checkouts.map((request) => request.form.customer)).toEqual([customer, customer]);
    expect(checkouts[1]!.form['line_items[0][price]']).toBe('price_starter_annual');
    expect(checkouts[1]!.idempotencyKey).toBe(`checkout:${tenant.id}:starter:annual:${today()}`);

    fake.reset();
    const racing = await newTenant();
    fake.customerDelayMs = 300;
    try {
      const sessions = await Promise.all(
        (['MONTHLY', 'ANNUAL'] as const).map((billingCycle) =>
          client(racing.session('owner')).request(StartCheckoutDocument, {
            tier: 'PROFESSIONAL',
            billingCycle,
          }),
        ),
      );
      expect(sessions.every((session) => session.startCheckout.url.length > 0)).toBe(true);
    } finally {
      fake.customerDelayMs = 0;
    }
    expect(fake.calls('POST', '/v1/customers')).toHaveLength(1);
    const stored = (await billingOf(racing.id)).stripe_customer_id;
    expect(stored).toMatch(/^cus_test/);
    expect(
      fake.calls('POST', '/v1/checkout/sessions').map((request) => request.form.customer),
    ).toEqual([stored, stored]);
    expect(await auditOf(racing.id, 'billing.customer_created')).toHaveLength(1);
    expect(await auditOf(racing.id, 'billing.checkout_started')).toHaveLength(2);
  });

  test.each([
    ['ADMIN', (t: TenantWithKeys) => t.session('admin')],
    ['MEMBER', (t: TenantWithKeys) => t.session('member')],
    ['VIEWER', (t: TenantWithKeys) => t.session('viewer')],
    ['a read-write API key', (t: TenantWithKeys) => t.key],
    ['a read-only API key', (t: TenantWithKeys) => t.readKey],
  ])(
    '%s is refused (FORBIDDEN, 403) before Stripe is called; the attempt is audited',
    async (_who, credential) => {
      // On a plan that includes API keys, so keys get as far as the permission check.
      const tenant = await newTenant('professional');
      const result = await failure(client(credential(tenant)), StartCheckoutDocument, {
        tier: 'PROFESSIONAL',
        billingCycle: 'MONTHLY',
      });
      expect(firstError(result)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect(firstError(result).message).toMatch(/startCheckout/);
      expect(fake.requests).toEqual([]);
      expect(await billingOf(tenant.id)).toMatchObject({ stripe_customer_id: null });
      expect(await auditOf(tenant.id, 'billing.')).toEqual([
        expect.objectContaining({ action: 'billing.checkout_started', success: false }),
      ]);
    },
  );

  test('a plan Stripe has no price for is BAD_USER_INPUT on tier, and no customer is created', async () => {
    const tenant = await newTenant();
    const owner = client(tenant.session('owner'));
    const enterprise = await failure(owner, StartCheckoutDocument, {
      tier: 'ENTERPRISE',
      billingCycle: 'ANNUAL',
    });
    expect(firstError(enterprise)).toEqual({
      status: 200,
      code: 'BAD_USER_INPUT',
      message: 'The Enterprise plan is priced by contract: contact sales to subscribe.',
    });
    expect(enterprise.errors[0]!.extensions.field).toBe('tier');

    fake.prices.delete('starter_annual');
    try {
      const missing = await failure(owner, StartCheckoutDocument, {
        tier: 'STARTER',
        billingCycle: 'ANNUAL',
      });
      expect(firstError(missing)).toMatchObject({
        code: 'BAD_USER_INPUT',
        message:
          'The Starter plan cannot be bought annually yet: Stripe has no price with lookup key starter_annual.',
      });
    } finally {
      fake.prices.set('starter_annual', {
        id: 'price_starter_annual',
        unitAmount: 49_000,
        interval: 'year',
      });
    }
    expect(fake.calls('GET', '/v1/prices')).toHaveLength(2);
    expect(fake.calls('POST', '/v1/customers')).toEqual([]);
    expect(await billingOf(tenant.id)).toMatchObject({ stripe_customer_id: null });
    expect(await auditOf(tenant.id, 'billing.')).toEqual([]);
  });

  test.each([
    ['GET', '/v1/prices', 500],
    ['POST', '/v1/customers', 500],
    ['POST', '/v1/customers', 400],
  ])(
    'Stripe answering %s %s with %s is BILLING_UNAVAILABLE with our own message, and nothing is written',
    async (method, path, status) => {
      const tenant = await newTenant();
      fake.fail(method, path, status);
      let result;
      try {
        result = await failure(client(tenant.session('owner')), StartCheckoutDocument, {
          tier: 'PROFESSIONAL',
          billingCycle: 'MONTHLY',
        });
      } finally {
        fake.fail(method, path, null);
      }
      const error = firstError(result);
      expect(error.code).toBe('BILLING_UNAVAILABLE');
      expect(error.message).toMatch(
        /^Stripe could not (look up the plan’s price|create the customer): nothing was changed\. Try again in a moment \(request [0-9a-f-]{36}\)\.$/,
      );
      expect(JSON.stringify(result.errors)).not.toContain('Simulated');
      expect(fake.calls('POST', '/v1/checkout/sessions')).toEqual([]);
      expect(await billingOf(tenant.id)).toMatchObject({
        stripe_customer_id: null,
        tier: 'starter',
        status: 'trial',
      });
      expect(await auditOf(tenant.id, 'billing.')).toEqual([]);
    },
  );

  test('a failed checkout call keeps the customer just created (it is reused next time) and records no checkout', async () => {
    const tenant = await newTenant();
    const owner = client(tenant.session('owner'));
    fake.fail('POST', '/v1/checkout/sessions', 500);
    let result;
    try {
      result = await failure(owner, StartCheckoutDocument, {
        tier: 'PROFESSIONAL',
        billingCycle: 'MONTHLY',
      });
    } finally {
      fake.fail('POST', '/v1/checkout/sessions', null);
    }
    expect(firstError(result)).toMatchObject({
      code: 'BILLING_UNAVAILABLE',
      message: expect.stringMatching(/^Stripe could not start the checkout: nothing was changed/),
    });
    const { stripe_customer_id: customer } = await billingOf(tenant.id);
    expect(customer).toMatch(/^cus_test/);
    expect(await auditOf(tenant.id, 'billing.checkout_started')).toEqual([]);

    await owner.request(StartCheckoutDocument, { tier: 'PROFESSIONAL', billingCycle: 'MONTHLY' });
    expect(fake.calls('POST', '/v1/customers')).toHaveLength(1);
    expect(fake.calls('POST', '/v1/checkout/sessions').at(-1)!.form.customer).toBe(customer);
  });

  test('Stripe unreachable is BILLING_UNAVAILABLE too', async () => {
    const app = await buildApp({
      pool: db.pool,
      migrations: db.migrations,
      logger: createLogger('silent'),
      apiKeyCacheTtlMs: 0,
      clerk: strictClerkConfig(),
      // Nothing listens on port 1.
      stripe: new Stripe('sk_test_nowhere', {
        host: '127.0.0.1',
        port: 1,
        protocol: 'http',
        maxNetworkRetries: 0,
      }),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as AddressInfo;
      const tenant = await newTenant();
      const result = await failure(
        new GraphQLClient(`http://127.0.0.1:${port}/graphql`, {
          headers: { authorization: `Bearer ${tenant.session('owner')}` },
        }),
        BillingPortalDocument,
      );
      expect(firstError(result)).toMatchObject({
        code: 'BILLING_UNAVAILABLE',
        message: expect.stringMatching(
          /^Stripe could not create the customer: nothing was changed/,
        ),
      });
      expect(await billingOf(tenant.id)).toMatchObject({ stripe_customer_id: null });
    } finally {
      await app.close();
    }
  });

  test('a server without STRIPE_SECRET_KEY refuses billing (FORBIDDEN) and has no Stripe webhook (404)', async () => {
    const off: Api = await startApi(db);
    try {
      const tenant = await newTenant();
      const checkout = await failure(off.client(tenant.session('owner')), StartCheckoutDocument, {
        tier: 'STARTER',
        billingCycle: 'MONTHLY',
      });
      const portal = await failure(off.client(tenant.session('owner')), BillingPortalDocument);
      for (const result of [checkout, portal]) {
        expect(firstError(result)).toEqual({
          status: 200,
          code: 'FORBIDDEN',
          message: 'Billing is not configured on this server.',
        });
      }
      const webhook = await fetch(off.url.replace(/\/graphql$/, '/webhooks/stripe'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
        body: '{}',
      });
      expect(webhook.status).toBe(404);
      expect(fake.requests).toEqual([]);
    } finally {
      await off.close();
    }
  });
});

describe('billingPortal', () => {
  test('an OWNER gets a portal URL that returns to the billing page; a tenant without a customer gets one first', async () => {
    const tenant = await newTenant();
    const owner = client(tenant.session('owner'));
    const first = await owner.request(BillingPortalDocument);
    expect(first.billingPortal.url).toMatch(/^https:\/\/billing\.stripe\.com\/p\/session\//);
    const { stripe_customer_id: customer } = await billingOf(tenant.id);
    expect(customer).toMatch(/^cus_test/);
    const portals = fake.calls('POST', '/v1/billing_portal/sessions');
    expect(portals.map((request) => request.form)).toEqual([
      { customer, return_url: `${APP_URL}/billing` },
    ]);
    await owner.request(BillingPortalDocument);
    expect(fake.calls('POST', '/v1/customers')).toHaveLength(1);
    expect(fake.calls('POST', '/v1/billing_portal/sessions')).toHaveLength(2);
    expect((await auditOf(tenant.id, 'billing.portal_opened')).length).toBe(2);
  });

  test('is for the OWNER only', async () => {
    const tenant = await newTenant('professional');
    for (const credential of [tenant.session('admin'), tenant.key]) {
      const result = await failure(client(credential), BillingPortalDocument);
      expect(firstError(result)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    }
    expect(fake.requests).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// POST /webhooks/stripe
// ---------------------------------------------------------------------------------------------

describe('webhook effects', () => {
  test('checkout.session.completed links the customer and the subscription to the tenant', async () => {
    const tenant = await newTenant();
    const customer = `cus_${unique()}`;
    const subscriptionId = `sub_${unique()}`;
    const completed = event(
      'checkout.session.completed',
      checkoutSession({ tenantId: tenant.id, customer, subscriptionId }),
    );
    expect(await deliver(completed)).toEqual({ status: 200, body: { status: 'processed' } });
    expect(await billingOf(tenant.id)).toMatchObject({
      stripe_customer_id: customer,
      tier: 'starter',
      status: 'trial',
    });
    expect(await subscriptionOf(subscriptionId)).toMatchObject({
      tenant_id: tenant.id,
      stripe_customer_id: customer,
      tier: 'professional',
      billing_cycle: 'annual',
      last_event_at: null,
    });
    expect(await eventRecorded(completed.id)).toEqual({
      type: 'checkout.session.completed',
      tenant_id: tenant.id,
    });
    expect(await auditOf(tenant.id, 'billing.')).toEqual([
      expect.objectContaining({
        action: 'billing.checkout.session.completed',
        actor: 'stripe_webhook',
        resource_type: 'subscription',
        resource_id: subscriptionId,
        changes: { stripeCustomerId: { from: null, to: customer } },
        success: true,
      }),
    ]);
  });

  test('customer.subscription.created (active, professional_monthly) sets tier, limits, status and the subscription row', async () => {
    const tenant = await subscribedTenant();
    const created = subscriptionEvent('customer.subscription.created', tenant, {
      status: 'active',
      lookupKey: 'professional_monthly',
    });
    expect(await deliver(created)).toEqual({ status: 200, body: { status: 'processed' } });
    expect(await billingOf(tenant.id)).toMatchObject({
      tier: 'professional',
      status: 'active',
      max_users: 20,
      max_entities: 500,
      max_storage_mb: 10_240,
      past_due_since: null,
      suspended_reason: null,
    });
    expect(await subscriptionOf(tenant.subscriptionId)).toEqual({
      tenant_id: tenant.id,
      tier: 'professional',
      status: 'active',
      billing_cycle: 'monthly',
      stripe_customer_id: tenant.customer,
      stripe_price_id: 'price_professional_monthly',
      price_lookup_key: 'professional_monthly',
      amount_cents: 19_900,
      currency: 'usd',
      current_period_start: iso(PERIOD_START),
      current_period_end: iso(PERIOD_END),
      cancel_at_period_end: false,
      trial_end: null,
      canceled_at: null,
      last_event_at: iso(created.created),
    });
    expect(await auditOf(tenant.id, 'billing.')).toEqual([
      expect.objectContaining({
        action: 'billing.customer.subscription.created',
        actor: 'stripe_webhook',
        resource_id: tenant.subscriptionId,
        changes: {
          tier: { from: 'starter', to: 'professional' },
          status: { from: 'trial', to: 'active' },
        },
        metadata: expect.objectContaining({
          eventId: created.id,
          customerId: tenant.customer,
          stripeStatus: 'active',
        }),
      }),
    ]);
    // The tenant's own key sees the new plan at once (its cached state was dropped).
    const viewer = await client(tenant.key).request(ViewerDocument);
    expect(viewer.viewer.tenant).toMatchObject({ tier: 'PROFESSIONAL', status: 'ACTIVE' });
  });

  test('customer.subscription.updated in the pre-2025 shape (period on the subscription) moves to enterprise_annual', async () => {
    const tenant = await subscribedTenant();
    await deliver(
      subscriptionEvent('customer.subscription.created', tenant, {}, nowSeconds() - 10),
    );
    const updated = subscriptionEvent('customer.subscription.updated', tenant, {
      lookupKey: 'enterprise_annual',
      unitAmount: 990_000,
      shape: 'legacy',
      cancelAtPeriodEnd: true,
    });
    expect((await deliver(updated)).body).toEqual({ status: 'processed' });
    expect(await billingOf(tenant.id)).toMatchObject({
      tier: 'enterprise',
      status: 'active',
      max_users: null,
      max_entities: null,
      max_storage_mb: 102_400,
    });
    expect(await subscriptionOf(tenant.subscriptionId)).toMatchObject({
      tier: 'enterprise',
      billing_cycle: 'annual',
      price_lookup_key: 'enterprise_annual',
      amount_cents: 990_000,
      current_period_start: iso(PERIOD_START),
      current_period_end: iso(PERIOD_END),
      cancel_at_period_end: true,
    });
  });

  test('trialing keeps the tenant in trial and takes Stripe’s trial end', async () => {
    const tenant = await subscribedTenant();
    const trialEnd = nowSeconds() + 10 * 86_400;
    await deliver(
      subscriptionEvent('customer.subscription.created', tenant, { status: 'trialing', trialEnd }),
    );
    expect(await billingOf(tenant.id)).toMatchObject({
      tier: 'professional',
      status: 'trial',
      trial_ends_at: iso(trialEnd),
    });
    expect(await subscriptionOf(tenant.subscriptionId)).toMatchObject({
      status: 'trial',
      trial_end: iso(trialEnd),
    });
  });

  test('past_due starts the grace period at the event’s time, and a later past_due keeps it', async () => {
    const tenant = await subscribedTenant();
    const start = nowSeconds() - 3_600;
    await deliver(subscriptionEvent('customer.subscription.created', tenant, {}, start - 60));
    await deliver(
      subscriptionEvent('customer.subscription.updated', tenant, { status: 'past_due' }, start),
    );
    expect(await billingOf(tenant.id)).toMatchObject({
      status: 'past_due',
      past_due_since: iso(start),
    });
    await deliver(invoiceEvent('invoice.payment_failed', tenant, {}, start + 600));
    expect(await billingOf(tenant.id)).toMatchObject({
      status: 'past_due',
      past_due_since: iso(start),
    });
  });

  test('invoice.payment_failed makes the tenant PAST_DUE, which keeps full access (reads and writes)', async () => {
    const tenant = await subscribedTenant();
    const at = nowSeconds();
    await deliver(subscriptionEvent('customer.subscription.created', tenant, {}, at - 60));
    const failed = invoiceEvent('invoice.payment_failed', tenant, {}, at);
    expect((await deliver(failed)).body).toEqual({ status: 'processed' });
    expect(await billingOf(tenant.id)).toMatchObject({
      status: 'past_due',
      past_due_since: iso(at),
      suspended_reason: null,
    });
    expect(await auditOf(tenant.id, 'billing.invoice.')).toEqual([
      expect.objectContaining({
        action: 'billing.invoice.payment_failed',
        changes: {
          status: { from: 'active', to: 'past_due' },
          pastDueSince: { from: null, to: iso(at) },
        },
      }),
    ]);
    const viewer = await client(tenant.key).request(ViewerDocument);
    expect(viewer.viewer.tenant?.status).toBe('PAST_DUE');
    const created = await client(tenant.key).request(CreateProductDocument, productInput());
    expect(created.createProduct.name).toBe('Gin 70cl');
  });

  test('invoices in the pre-2025 shape (`subscription` on the invoice) and without metadata are read too', async () => {
    const tenant = await subscribedTenant();
    const at = nowSeconds();
    await deliver(subscriptionEvent('customer.subscription.created', tenant, {}, at - 60));
    await deliver(
      invoiceEvent('invoice.payment_failed', tenant, { shape: 'legacy', tenantId: null }, at),
    );
    expect(await billingOf(tenant.id)).toMatchObject({ status: 'past_due' });
    expect((await subscriptionOf(tenant.subscriptionId))?.last_event_at).toBe(iso(at));
  });

  test('unpaid suspends for non-payment: queries work, mutations get PAYMENT_REQUIRED (402), billing still works; invoice.paid restores everything', async () => {
    const tenant = await subscribedTenant();
    const at = nowSeconds() - 120;
    await deliver(subscriptionEvent('customer.subscription.created', tenant, {}, at - 60));
    // Cache the key's tenant state first: the webhook must make this server forget it.
    await client(tenant.key).request(ViewerDocument);
    await deliver(
      subscriptionEvent('customer.subscription.updated', tenant, { status: 'unpaid' }, at),
    );
    expect(await billingOf(tenant.id)).toMatchObject({
      status: 'suspended',
      suspended_reason: 'payment',
      past_due_since: iso(at),
    });

    const viewer = await client(tenant.key).request(ViewerDocument);
    expect(viewer.viewer.tenant?.status).toBe('SUSPENDED');
    const refused = await failure(client(tenant.key), CreateProductDocument, productInput());
    expect(firstError(refused)).toMatchObject({ status: 402, code: 'PAYMENT_REQUIRED' });
    // The OWNER can still pay.
    const checkout = await client(tenant.session('owner')).request(StartCheckoutDocument, {
      tier: 'PROFESSIONAL',
      billingCycle: 'MONTHLY',
    });
    expect(checkout.startCheckout.url).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    expect(fake.calls('POST', '/v1/customers')).toEqual([]);
    expect(fake.calls('POST', '/v1/checkout/sessions')[0]!.form.customer).toBe(tenant.customer);

    expect((await deliver(invoiceEvent('invoice.paid', tenant, {}, at + 60))).body).toEqual({
      status: 'processed',
    });
    expect(await billingOf(tenant.id)).toMatchObject({
      status: 'active',
      past_due_since: null,
      suspended_reason: null,
    });
    const created = await client(tenant.key).request(CreateProductDocument, productInput());
    expect(created.createProduct.sku).toMatch(/^SKU-/);
  });

  test('paused suspends for non-payment as unpaid does', async () => {
    const tenant = await subscribedTenant();
    await deliver(subscriptionEvent('customer.subscription.updated', tenant, { status: 'paused' }));
    expect(await billingOf(tenant.id)).toMatchObject({
      status: 'suspended',
      suspended_reason: 'payment',
    });
  });

  test('customer.subscription.deleted cancels: read-only, the tier kept', async () => {
    const tenant = await subscribedTenant();
    const at = nowSeconds();
    await deliver(subscriptionEvent('customer.subscription.created', tenant, {}, at - 60));
    const deleted = subscriptionEvent(
      'customer.subscription.deleted',
      tenant,
      { status: 'canceled', canceledAt: at },
      at,
    );
    expect((await deliver(deleted)).body).toEqual({ status: 'processed' });
    expect(await billingOf(tenant.id)).toMatchObject({ status: 'cancelled', tier: 'professional' });
    expect(await subscriptionOf(tenant.subscriptionId)).toMatchObject({
      status: 'cancelled',
      canceled_at: iso(at),
    });
    await client(tenant.key).request(ViewerDocument);
    const refused = await failure(client(tenant.key), CreateProductDocument, productInput());
    expect(firstError(refused)).toMatchObject({ status: 402, code: 'PAYMENT_REQUIRED' });

    // A failed invoice of a cancelled subscription does not make the tenant past due.
    await deliver(invoiceEvent('invoice.payment_failed', tenant, {}, at + 10));
    expect(await billingOf(tenant.id)).toMatchObject({ status: 'cancelled', past_due_since: null });
  });

  test('incomplete changes nothing (not even the tier: unpaid yet); incomplete_expired cancels', async () => {
    const tenant = await subscribedTenant();
    await deliver(
      subscriptionEvent(
        'customer.subscription.created',
        tenant,
        { status: 'incomplete' },
        nowSeconds() - 5,
      ),
    );
    expect(await billingOf(tenant.id)).toMatchObject({ status: 'trial', tier: 'starter' });
    await deliver(
      subscriptionEvent('customer.subscription.updated', tenant, { status: 'incomplete_expired' }),
    );
    expect(await billingOf(tenant.id)).toMatchObject({ status: 'cancelled' });
  });

  test('customer.subscription.trial_will_end is audited only', async () => {
    const tenant = await subscribedTenant();
    const trialEnd = nowSeconds() + 3 * 86_400;
    const before = await billingOf(tenant.id);
    const warning = subscriptionEvent('customer.subscription.trial_will_end', tenant, {
      status: 'trialing',
      trialEnd,
      lookupKey: 'enterprise_monthly',
    });
    expect((await deliver(warning)).body).toEqual({ status: 'processed' });
    expect(await billingOf(tenant.id)).toEqual(before);
    expect(await subscriptionOf(tenant.subscriptionId)).toBeNull();
    expect(await auditOf(tenant.id, 'billing.')).toEqual([
      expect.objectContaining({
        action: 'billing.customer.subscription.trial_will_end',
        changes: {},
        metadata: expect.objectContaining({ trialEnd: iso(trialEnd) }),
      }),
    ]);
  });

  test('a price whose lookup key names no plan leaves the tier as it is, with an audited warning', async () => {
    const tenant = await subscribedTenant();
    await deliver(
      subscriptionEvent('customer.subscription.created', tenant, { lookupKey: 'legacy_gold_plan' }),
    );
    expect(await billingOf(tenant.id)).toMatchObject({
      tier: 'starter',
      status: 'active',
      max_users: 5,
    });
    expect(await subscriptionOf(tenant.subscriptionId)).toMatchObject({
      tier: 'starter',
      price_lookup_key: 'legacy_gold_plan',
    });
    expect(await auditOf(tenant.id, 'billing.unknown_price')).toEqual([
      expect.objectContaining({
        success: false,
        severity: 'warning',
        error_message: expect.stringContaining('"legacy_gold_plan", which names no plan'),
      }),
    ]);
  });

  test('a tenant found by its Stripe customer alone (no metadata) gets the effect', async () => {
    const tenant = await subscribedTenant();
    await deliver(
      subscriptionEvent('customer.subscription.created', tenant, {
        tenantId: null,
        lookupKey: 'starter_annual',
      }),
    );
    expect(await billingOf(tenant.id)).toMatchObject({ status: 'active', tier: 'starter' });
    expect(await subscriptionOf(tenant.subscriptionId)).toMatchObject({ billing_cycle: 'annual' });
  });

  test('an operator’s suspension is never lifted by Stripe; the plan still updates', async () => {
    const tenant = await subscribedTenant();
    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET subscription_status = 'suspended', suspended_reason = 'operator'
      WHERE id = ${tenant.id}`);
    await deliver(subscriptionEvent('customer.subscription.updated', tenant, { status: 'active' }));
    await deliver(invoiceEvent('invoice.paid', tenant));
    expect(await billingOf(tenant.id)).toMatchObject({
      status: 'suspended',
      suspended_reason: 'operator',
      tier: 'professional',
      max_users: 20,
    });
    expect(await subscriptionOf(tenant.subscriptionId)).toMatchObject({ status: 'active' });
    const blocked = await failure(client(tenant.key), ViewerDocument);
    expect(firstError(blocked)).toMatchObject({ status: 403, code: 'TENANT_SUSPENDED' });
  });
});

describe('webhook delivery', () => {
  test('a redelivered event has one effect: the second answer is "duplicate"', async () => {
    const tenant = await subscribedTenant();
    const failed = invoiceEvent('invoice.payment_failed', tenant);
    expect(await deliver(failed)).toEqual({ status: 200, body: { status: 'processed' } });
    const since = (await billingOf(tenant.id)).past_due_since;
    expect(await deliver(failed)).toEqual({ status: 200, body: { status: 'duplicate' } });
    expect((await billingOf(tenant.id)).past_due_since).toBe(since);
    expect(await auditOf(tenant.id, 'billing.')).toHaveLength(1);
  });

  test('five concurrent deliveries of one event: all 2xx, one effect', async () => {
    const tenant = await subscribedTenant();
    const created = subscriptionEvent('customer.subscription.created', tenant);
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(created)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(answers.map((answer) => answer.body.status).sort()).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
      'processed',
    ]);
    expect(await auditOf(tenant.id, 'billing.')).toHaveLength(1);
    expect(await billingOf(tenant.id)).toMatchObject({ tier: 'professional', status: 'active' });
  });

  test('an update older than the last one applied changes nothing (t2 then t1)', async () => {
    const tenant = await subscribedTenant();
    const t2 = nowSeconds() - 100;
    const t1 = t2 - 100;
    await deliver(
      subscriptionEvent(
        'customer.subscription.updated',
        tenant,
        { lookupKey: 'professional_annual' },
        t2,
      ),
    );
    const late = subscriptionEvent(
      'customer.subscription.updated',
      tenant,
      { lookupKey: 'starter_monthly', status: 'past_due' },
      t1,
    );
    expect(await deliver(late)).toEqual({ status: 200, body: { status: 'stale' } });
    expect(await billingOf(tenant.id)).toMatchObject({
      tier: 'professional',
      status: 'active',
      max_users: 20,
      past_due_since: null,
    });
    expect(await subscriptionOf(tenant.subscriptionId)).toMatchObject({
      price_lookup_key: 'professional_annual',
      billing_cycle: 'annual',
      last_event_at: iso(t2),
    });
    expect(await eventRecorded(late.id)).toEqual({
      type: 'customer.subscription.updated',
      tenant_id: tenant.id,
    });
    expect(await deliver(late)).toEqual({ status: 200, body: { status: 'duplicate' } });
  });

  test('deleted then an older updated: stays cancelled; an update in the same second cannot revive it either', async () => {
    const tenant = await subscribedTenant();
    const t2 = nowSeconds() - 50;
    await deliver(
      subscriptionEvent(
        'customer.subscription.deleted',
        tenant,
        { status: 'canceled', canceledAt: t2 },
        t2,
      ),
    );
    expect(
      (await deliver(subscriptionEvent('customer.subscription.updated', tenant, {}, t2 - 30))).body,
    ).toEqual({ status: 'stale' });
    expect(
      (await deliver(subscriptionEvent('customer.subscription.updated', tenant, {}, t2))).body,
    ).toEqual({ status: 'processed' });
    expect(await billingOf(tenant.id)).toMatchObject({ status: 'cancelled', tier: 'starter' });
    expect(await subscriptionOf(tenant.subscriptionId)).toMatchObject({ status: 'cancelled' });
  });

  test('a failed payment reported after the later payment changes nothing', async () => {
    const tenant = await subscribedTenant();
    const t2 = nowSeconds() - 10;
    await deliver(subscriptionEvent('customer.subscription.created', tenant, {}, t2 - 100));
    await deliver(invoiceEvent('invoice.paid', tenant, {}, t2));
    expect(
      (await deliver(invoiceEvent('invoice.payment_failed', tenant, {}, t2 - 50))).body,
    ).toEqual({ status: 'stale' });
    expect(await billingOf(tenant.id)).toMatchObject({ status: 'active', past_due_since: null });
  });

  const tampered = (body: StripeEventBody) => JSON.stringify({ ...body, type: 'invoice.paid' });
  test.each([
    [
      'another secret',
      (): Delivery => ({ secret: OTHER_SECRET }),
      'Invalid signature: stripe-signature does not match the body.',
    ],
    [
      'a tampered body',
      (body: StripeEventBody): Delivery => ({ sendBody: tampered(body) }),
      'Invalid signature: stripe-signature does not match the body.',
    ],
    [
      'a timestamp 301 s old',
      (): Delivery => ({ timestamp: nowSeconds() - 301 }),
      'Stale delivery: the stripe-signature timestamp is more than 5 minutes old.',
    ],
    [
      'a timestamp 301 s in the future',
      (): Delivery => ({ timestamp: nowSeconds() + 301 }),
      'Delivery from the future: the stripe-signature timestamp is more than 5 minutes ahead.',
    ],
    [
      'no stripe-signature header',
      (): Delivery => ({ omitSignature: true }),
      'Missing stripe-signature header.',
    ],
  ])('%s: 400 and nothing changes', async (_case, delivery, message) => {
    const tenant = await subscribedTenant();
    const created = subscriptionEvent('customer.subscription.created', tenant);
    const before = await billingOf(tenant.id);
    const answer = await deliver(created, delivery(created));
    expect(answer).toEqual({ status: 400, body: { error: message } });
    expect(await eventRecorded(created.id)).toBeNull();
    expect(await billingOf(tenant.id)).toEqual(before);
    expect(await subscriptionOf(tenant.subscriptionId)).toBeNull();
    expect(await auditOf(tenant.id, 'billing.')).toEqual([]);
  });

  test('a timestamp 299 s in the future is still accepted (clock skew)', async () => {
    const tenant = await subscribedTenant();
    const created = subscriptionEvent('customer.subscription.created', tenant);
    expect(await deliver(created, { timestamp: nowSeconds() + 299 })).toEqual({
      status: 200,
      body: { status: 'processed' },
    });
  });

  test.each([
    [
      'created: 1e15',
      (body: StripeEventBody) => ({ ...body, created: 1e15 }),
      /^Invalid "created": it must be whole Unix seconds from 0 to 253402300799/,
    ],
    [
      'a period end in the year 33,000',
      (body: StripeEventBody) =>
        JSON.parse(
          JSON.stringify(body).replace(
            /"current_period_end":\d+/g,
            '"current_period_end":1000000000000',
          ),
        ) as StripeEventBody,
      /^Invalid customer\.subscription\.created event: data\.object\.items\.data\.0\.current_period_end: a time after 9999-12-31 is out of range/,
    ],
    [
      'a customer id with U+0000',
      (body: StripeEventBody) =>
        JSON.parse(
          JSON.stringify(body).replace(/"customer":"cus_/, '"customer":"cus_\\u0000'),
        ) as StripeEventBody,
      /^Invalid event: data\.object\.customer is text with U\+0000 or an unpaired surrogate\./,
    ],
  ])(
    'a signed event with %s: 400 with the reason, every delivery; nothing changes',
    async (_case, change, message) => {
      const tenant = await subscribedTenant();
      const created = change(subscriptionEvent('customer.subscription.created', tenant));
      const before = await billingOf(tenant.id);
      for (let delivery = 0; delivery < 2; delivery += 1) {
        const answer = await deliver(created);
        expect(answer.status).toBe(400);
        expect(answer.body.error).toMatch(message);
      }
      expect(await eventRecorded(created.id)).toBeNull();
      expect(await billingOf(tenant.id)).toEqual(before);
      expect(await subscriptionOf(tenant.subscriptionId)).toBeNull();
    },
  );

  test('a signed body that is not a Stripe event is 400', async () => {
    const answer = await deliver({ id: '', type: '', created: -1 });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(/^The body is not a Stripe event/);
  });

  test('an event type without an effect is recorded and ignored (200)', async () => {
    const other = event('charge.refunded', { id: 'ch_123', object: 'charge' });
    expect(await deliver(other)).toEqual({ status: 200, body: { status: 'ignored' } });
    expect(await eventRecorded(other.id)).toEqual({ type: 'charge.refunded', tenant_id: null });
  });

  test('an event for no known tenant is 200, recorded, logged and audited as a failure', async () => {
    const stray = event(
      'customer.subscription.updated',
      subscription({ id: `sub_${unique()}`, customer: `cus_${unique()}`, tenantId: null }),
    );
    expect(await deliver(stray)).toEqual({ status: 200, body: { status: 'unknown_tenant' } });
    expect(await eventRecorded(stray.id)).toEqual({
      type: 'customer.subscription.updated',
      tenant_id: null,
    });
    const rows = (await auditOf(null, 'billing.unknown_tenant')).filter(
      (row) => (row.metadata as { eventId?: string }).eventId === stray.id,
    );
    expect(rows).toEqual([
      expect.objectContaining({
        actor: 'stripe_webhook',
        success: false,
        severity: 'warning',
        error_message: expect.stringContaining(
          'No tenant for this customer.subscription.updated event',
        ),
      }),
    ]);
  });

  test('a failure while applying the effect is 500 with no stripe_events row; the redelivery applies it', async () => {
    const tenant = await subscribedTenant();
    const created = subscriptionEvent('customer.subscription.created', tenant);
    // A real PostgreSQL failure inside the transaction: writing this subscription's row raises.
    await db.pool.query(sql.unsafe`
      CREATE FUNCTION public.test_refuse_subscription() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'subscription refused by the test'; END $$`);
    await db.pool.query(sql.unsafe`
      CREATE TRIGGER test_refuse_subscription BEFORE INSERT ON public.subscriptions FOR EACH ROW
      WHEN (NEW.stripe_subscription_id = ${sql.literalValue(tenant.subscriptionId)})
      EXECUTE FUNCTION public.test_refuse_subscription()`);
    try {
      const answer = await deliver(created);
      expect(answer.status).toBe(500);
      expect(answer.body.error).toBe(
        'Internal error: the event was not processed; a redelivery can retry it.',
      );
      expect(JSON.stringify(answer.body)).not.toContain('refused by the test');
      expect(await eventRecorded(created.id)).toBeNull();
      expect(await billingOf(tenant.id)).toMatchObject({ tier: 'starter', status: 'trial' });
      expect(await auditOf(tenant.id, 'billing.')).toEqual([]);
    } finally {
      await db.pool.query(
        sql.unsafe`DROP TRIGGER test_refuse_subscription ON public.subscriptions`,
      );
      await db.pool.query(sql.unsafe`DROP FUNCTION public.test_refuse_subscription()`);
    }
    expect(await deliver(created)).toEqual({ status: 200, body: { status: 'processed' } });
    expect(await billingOf(tenant.id)).toMatchObject({ tier: 'professional', status: 'active' });
  });
});

describe('configuration', () => {
  test('STRIPE_SECRET_KEY turns billing on; STRIPE_WEBHOOK_SECRET needs it; APP_URL defaults to localhost:3000', () => {
    expect(loadConfig({})).toMatchObject({ stripe: undefined, appUrl: 'http://localhost:3000' });
    expect(
      loadConfig({
        STRIPE_SECRET_KEY: 'sk_test_abc123',
        STRIPE_WEBHOOK_SECRET: 'whsec_abc123',
        APP_URL: 'https://app.example.com/',
      }),
    ).toMatchObject({
      stripe: { secretKey: 'sk_test_abc123', webhookSecret: 'whsec_abc123' },
      appUrl: 'https://app.example.com',
    });
    expect(() => loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_abc123' })).toThrow(
      'STRIPE_WEBHOOK_SECRET: set STRIPE_SECRET_KEY too',
    );
    expect(() => loadConfig({ STRIPE_SECRET_KEY: 'pk_test_abc123' })).toThrow(ConfigError);
    expect(() => loadConfig({ APP_URL: 'ftp://example.com' })).toThrow(ConfigError);
  });
});
