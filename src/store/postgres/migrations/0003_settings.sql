-- Small durable settings, e.g. the signing secret generated once when
-- GATEKEEPER_SECRET_KEY is unset. The first writer wins (INSERT … ON CONFLICT DO NOTHING).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
