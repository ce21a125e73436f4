// Package vocab holds the words every layer of coffer shares and no layer
// owns: job kinds and states with the one table of the transitions each
// kind allows, recovery-point states, the sentinel errors that the API maps
// to AWS error codes, the shapes of ARNs, ids and bucket names, and the
// bounds of every duration a request carries (bounds.go) with the
// overflow-free arithmetic on them. It imports nothing of coffer, so every
// package may import it.
package vocab
