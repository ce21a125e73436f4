// Package wire holds what the handler packages of the API share: the
// restJson1 error they return (Error, BadParam), the JSON request
// decoding, AWS's epoch-second timestamps, paging and query parameters,
// list answers, and the shapes several resource families answer with
// (Lifecycle, CreatedBy). The server that routes to the handlers, and
// writes what they return, is package api.
package wire
