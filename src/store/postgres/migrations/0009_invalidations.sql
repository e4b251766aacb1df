-- Cache invalidations, for the instances that cannot LISTEN (behind a transaction pooler, where
-- a LISTEN lands on whichever server connection the pooler picked and is never heard again).
-- Every publish writes one row and sends the NOTIFY in the same statement, so instances in either
-- mode hear it; a polling instance reads `id > last seen` every 250 ms. Rows are only needed for
-- a few seconds: every instance deletes those older than a minute on a slow timer, so the table
-- holds about a minute of invalidations.
CREATE TABLE gatekeeper_invalidations (
    id BIGSERIAL PRIMARY KEY,
    message TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
