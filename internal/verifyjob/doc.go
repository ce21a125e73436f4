// Package verifyjob owns verification jobs: a vault's integrity check
// (vaultverify.Verify: manifests, record streams, the index and pack listing,
// and a share of the data read back) run on the job core (internal/jobs)
// under the vault's shared lease, so that maintenance of the vault never
// runs at the same time (in this process through the lease, in another
// through the catalog's claim). A verification reports problems; it
// FAILs only when the vault could not be checked at all.
//
// The report's counts and the affected recovery points' ARNs are stored
// in clear in the catalog; the list of problems (engine ids and details,
// never an object key) is sealed under a key derived from the master key.
// A verification interrupted by a stop or by the death of its process
// runs again from the start: it writes nothing.
package verifyjob
