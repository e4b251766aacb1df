-- The audit trail: who did what, when, from where. detail holds names, ids,
-- reasons and before/after values, never a password or token. user_id has no
-- foreign key on purpose: events must outlive the users they are about.
-- Rows older than GATEKEEPER_AUDIT_RETENTION_DAYS are purged.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    event TEXT NOT NULL,
    username TEXT,
    user_id UUID,
    ip TEXT,
    detail JSONB NOT NULL DEFAULT '{}'
);

CREATE INDEX idx_audit_events_at ON audit_events (at DESC, id DESC);
CREATE INDEX idx_audit_events_username ON audit_events (lower(username), at DESC);
CREATE INDEX idx_audit_events_user_id ON audit_events (user_id, at DESC);
