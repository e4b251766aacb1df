-- OAuth clients: the services that may call Gatekeeper on their own behalf (token
-- introspection now; OpenID Connect later). client_id is the public name a client
-- authenticates with; secret_hash is the SHA-256 (hex) of its secret, never the
-- secret itself, and NULL for a public client (a browser or mobile app, which cannot
-- keep a secret). redirect_uris are compared exactly. created_by names the admin or
-- operator who created the client (no foreign key: the record outlives its creator).
CREATE TABLE oauth_clients (
    id UUID PRIMARY KEY,
    client_id TEXT NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT[] NOT NULL DEFAULT '{}',
    grant_types TEXT[] NOT NULL DEFAULT '{}',
    first_party BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    secret_rotated_at TIMESTAMPTZ,
    created_by TEXT,
    CONSTRAINT oauth_clients_client_id_key UNIQUE (client_id)
);

-- The admin list pages in creation order.
CREATE INDEX idx_oauth_clients_created_at ON oauth_clients (created_at, client_id);
