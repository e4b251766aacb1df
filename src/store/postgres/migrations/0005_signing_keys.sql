-- Asymmetric JWT signing keys (EdDSA, ES256, RS256) as JWK. The active key of an
-- algorithm has retired_at NULL; the partial unique index allows one active key per
-- algorithm, which is what makes "first writer wins" hold when several instances
-- start together on an empty table. Retired keys keep verifying the tokens they
-- signed until those expire, then cleanup deletes them.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    public_jwk JSONB NOT NULL,
    private_jwk JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ
);

CREATE UNIQUE INDEX idx_signing_keys_active ON signing_keys (algorithm) WHERE retired_at IS NULL;
