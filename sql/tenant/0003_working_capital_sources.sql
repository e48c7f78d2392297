-- Working capital computed from the tenant's own data: metrics rows say whether a user entered
-- them or the server derived them (computeWorkingCapitalMetrics replaces only DERIVED rows), and
-- every inventory adjustment is kept, so stock can be valued as at a past date and received
-- goods turned into payables.

DO $$
BEGIN
  IF current_schema() IS NULL OR current_schema() IN ('public', 'pg_catalog', 'information_schema') THEN
    RAISE EXCEPTION 'tenant migration must run with search_path = <tenant schema>, public (current_schema() is %)',
      coalesce(current_schema(), 'NULL');
  END IF;
END
$$;

-- Rows that exist were typed in by a user: ENTERED.
ALTER TABLE working_capital_metrics
  ADD COLUMN source varchar(10) NOT NULL DEFAULT 'ENTERED',
  ADD CONSTRAINT working_capital_metrics_source_valid CHECK (source IN ('ENTERED', 'DERIVED'));

-- One row per adjustInventory: what it did and by how much on-hand stock changed.
CREATE TABLE inventory_adjustments (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  product_id         uuid NOT NULL,
  location           varchar(100) NOT NULL,
  kind               varchar(10) NOT NULL,
  quantity           integer NOT NULL,
  -- on hand after minus on hand before (RECEIVE +quantity, SHIP -quantity, COUNT the difference)
  on_hand_change     integer NOT NULL,
  adjusted_on        date NOT NULL DEFAULT current_date,
  created_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT inventory_adjustments_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
  CONSTRAINT inventory_adjustments_kind_valid CHECK (kind IN ('RECEIVE', 'RESERVE', 'RELEASE', 'SHIP', 'COUNT')),
  CONSTRAINT inventory_adjustments_quantity_nonnegative CHECK (quantity >= 0)
);

-- (product_id, adjusted_on) also serves the product_id foreign key; receipts by date for payables.
CREATE INDEX idx_inventory_adjustments_product_date ON inventory_adjustments (product_id, adjusted_on);
CREATE INDEX idx_inventory_adjustments_receipts ON inventory_adjustments (adjusted_on) WHERE kind = 'RECEIVE';
