// Package catsql holds the SQL building blocks the catalog and its stores
// (internal/catalog/...) share: the WHERE builder of listings, placeholder
// lists, and the encoding of columns (times as Unix nanoseconds, 0 for
// none; string maps as JSON). It is internal to the catalog so that these
// helpers are not part of the catalog's API.
package catsql
