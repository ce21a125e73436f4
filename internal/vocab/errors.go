package vocab

import "errors"

// Sentinel errors: the API layer maps each to an AWS error code; callers
// branch on them with errors.Is.
var (
	ErrNotFound         = errors.New("not found")              // ResourceNotFoundException
	ErrAlreadyExists    = errors.New("already exists")         // AlreadyExistsException
	ErrInvalidParameter = errors.New("invalid parameter")      // InvalidParameterValueException
	ErrMissingParameter = errors.New("missing parameter")      // MissingParameterValueException
	ErrInvalidRequest   = errors.New("invalid request")        // InvalidRequestException
	ErrInvalidState     = errors.New("invalid resource state") // InvalidResourceStateException
	ErrLimitExceeded    = errors.New("limit exceeded")         // LimitExceededException
	// ErrUnavailable: a system coffer depends on (an S3 endpoint) did not
	// answer; the call may succeed later. Its message is for the caller.
	ErrUnavailable = errors.New("unavailable") // ServiceUnavailableException (503)
)
