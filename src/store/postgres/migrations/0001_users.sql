-- The users table of the seed document, column for column (names, types, sizes,
-- nullability, uniqueness, defaults, both indexes). Only the id default differs:
-- gen_random_uuid() is built into PostgreSQL 13+ (no extension, no superuser).
-- created_at/updated_at are TIMESTAMP without time zone as in the seed; Gatekeeper
-- connects with TimeZone=UTC and always stores UTC in them.
CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    username VARCHAR(50) UNIQUE NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(20) NOT NULL DEFAULT 'regular',
    email VARCHAR(255) UNIQUE,
    profile_picture_url VARCHAR(500),
    yapcoin_balance INTEGER DEFAULT 0,
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    metadata JSONB DEFAULT '{}'
);

-- Indexes
CREATE INDEX idx_users_username ON users(username);
CREATE INDEX idx_users_email ON users(email);

-- Usernames and emails are unique regardless of case; lookups use these indexes.
CREATE UNIQUE INDEX idx_users_username_lower ON users (lower(username));
CREATE UNIQUE INDEX idx_users_email_lower ON users (lower(email));

-- listUsers() pages in creation order.
CREATE INDEX idx_users_created_at ON users (created_at, id);
