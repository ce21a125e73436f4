package service

import "github.com/cofferbackup/coffer/internal/vocab"

// Sentinel errors, from the vocabulary every layer shares: the API layer
// maps each to an AWS error code.
var (
	ErrNotFound         = vocab.ErrNotFound         // ResourceNotFoundException
	ErrAlreadyExists    = vocab.ErrAlreadyExists    // AlreadyExistsException
	ErrInvalidParameter = vocab.ErrInvalidParameter // InvalidParameterValueException
	ErrMissingParameter = vocab.ErrMissingParameter // MissingParameterValueException
	ErrInvalidRequest   = vocab.ErrInvalidRequest   // InvalidRequestException
	ErrInvalidState     = vocab.ErrInvalidState     // InvalidResourceStateException
	ErrUnavailable      = vocab.ErrUnavailable      // ServiceUnavailableException
	ErrLimitExceeded    = vocab.ErrLimitExceeded    // LimitExceededException
)
