/**
 * The operations `npm run bench` times. Both servers receive the same request body; the baseline
 * picks its hand-written SQL by operationName.
 */
import { BENCH_SALES_DAYS } from './api-seed.js';

export type Scenario = {
  label: string;
  operationName: string;
  query: string;
  variables: Record<string, unknown>;
};

const daysBefore = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

export const PRODUCTS_PAGE = /* GraphQL */ `
  query ProductsPage($first: Int!, $from: Date!, $to: Date!) {
    products(first: $first) {
      edges {
        node {
          id
          sku
          name
          stock {
            onHand
            reserved
            available
          }
          salesTotals(from: $from, to: $to) {
            quantity
            revenue
            netRevenue
            orders
          }
          forecasts {
            date
            predictedValue
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

export const SALES_BY_CHANNEL_MONTH = /* GraphQL */ `
  query SalesByChannelMonth($from: Date!, $to: Date!) {
    salesSummary(from: $from, to: $to, groupBy: [CHANNEL, MONTH]) {
      channel
      month
      quantity
      revenue
      netRevenue
      orders
    }
  }
`;

/** `today` is the last day with sales in every tenant. */
export function benchScenarios(today: string): Scenario[] {
  return [
    {
      label: '(a) products(first: 20) with stock, salesTotals (30 days) and forecasts',
      operationName: 'ProductsPage',
      query: PRODUCTS_PAGE,
      variables: { first: 20, from: daysBefore(today, 29), to: today },
    },
    {
      label: `(b) salesSummary over ${BENCH_SALES_DAYS} days, groupBy [CHANNEL, MONTH]`,
      operationName: 'SalesByChannelMonth',
      query: SALES_BY_CHANNEL_MONTH,
      variables: { from: daysBefore(today, BENCH_SALES_DAYS - 1), to: today },
    },
  ];
}

export const requestBody = (scenario: Scenario): string =>
  JSON.stringify({
    operationName: scenario.operationName,
    query: scenario.query,
    variables: scenario.variables,
  });
