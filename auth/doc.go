// Package auth holds Atrium's credentials: argon2id password hashes in PHC
// strings, random bearer tokens stored only as hashes, and the throttle
// that slows password guessing. Single sign-on, OAuth, SAML and OIDC will
// live in sub-packages.
package auth
