// Package auth owns coffer's API credentials and the verification of AWS
// Signature Version 4 signed requests.
//
// coffer has one root credential pair (an access key id and a secret access
// key, like an AWS IAM user's). LoadOrCreateRoot takes it from the
// environment when given there, else from <data-dir>/credentials.json, and
// generates and stores a fresh pair (mode 0600) on first start. The CLI reads
// the same file with ReadCredentialsFile.
//
// Verifier checks that a request was signed with SigV4 for the service
// "backup" by the root credentials, exactly as the official AWS SDKs sign
// (aws-sdk-go-v2 is used to rebuild the signature, so coffer and its clients
// cannot drift apart). Any region in the credential scope is accepted: coffer
// is a single-region service and clients may be configured with whatever
// region they like; the region is still part of the signature, so it cannot
// be altered in transit. Every failure wraps ErrAccessDenied and one of the
// more specific sentinels (ErrMissingAuth, ErrMalformedAuth, ErrUnknownKey,
// ErrSignatureMismatch, ErrRequestExpired, ErrWrongService, ErrReplayed); ErrorCode and
// ErrorStatus map an error to the AWS error code and HTTP status the API
// returns for it. Precheck runs the checks that need only the headers, so
// that the API refuses unsigned and malformed requests before reading their
// body; Time is the clock signatures are checked against, which the API
// answers in its Date header for the SDKs' clock-skew correction. With a
// Ledger (the catalog), Verify also refuses a mutating request whose
// signature was already accepted within the skew window (ErrReplayed): a
// captured request cannot be replayed, while the SDKs' retries, signed
// anew, pass.
package auth
