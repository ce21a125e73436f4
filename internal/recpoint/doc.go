// Package recpoint owns the recovery-point record format: the sorted stream
// of version records (one per object version or delete marker) that describes
// a backed-up bucket, and its encoding inside a vault. docs/format.md is the
// written specification; this package is its only implementation.
package recpoint
