-- Multi-factor authentication (TOTP, RFC 6238; issue 14). One row per user with a TOTP secret:
-- pending (confirmed_at NULL) from setup until the first code confirms it. The secret is stored
-- encrypted (AES-256-GCM, src/security/secret-box.ts), never in clear. last_step is the RFC 6238
-- time step of the last accepted code: a code is accepted only for a later step, by one UPDATE
-- (two instances racing the same code: the second finds last_step moved and matches nothing).
CREATE TABLE user_mfa (
    user_id UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_ciphertext TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    confirmed_at TIMESTAMPTZ,
    last_step BIGINT
);

-- Recovery codes: SHA-256 of each (hex), spent by setting used_at. They go with the user's TOTP
-- row (disable, admin reset) and with the user.
CREATE TABLE mfa_recovery_codes (
    user_id UUID NOT NULL REFERENCES user_mfa (user_id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

-- Login sessions started with a second factor: a refreshed access token keeps `amr` ["pwd","otp"].
CREATE TABLE mfa_sessions (
    session_id UUID PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE
);
