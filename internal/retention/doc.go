// Package retention owns when recovery points end: it deletes every
// recovery point whose retention (DeleteAt) has passed and asks for the
// maintenance that reclaims their space. The leader runs it periodically.
// Vault lock bounds and legal holds, which may keep a recovery point past
// its DeleteAt, belong here too.
package retention
