-- OrderRequest.leverage had no column: without it an order record does not round-trip.
ALTER TABLE orders ADD COLUMN leverage INTEGER;
