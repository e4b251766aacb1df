/** JWT signing algorithms Gatekeeper issues access tokens with (GATEKEEPER_JWT_ALGORITHM). */
export const JWT_ALGORITHMS = ['HS256', 'EdDSA', 'ES256', 'RS256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** The asymmetric ones: their keys live in the store's key ring and are published at the JWKS. */
export const SIGNING_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
