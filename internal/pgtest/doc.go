// Package pgtest gives tests the PostgreSQL server they run against: its
// URL (COFFER_TEST_POSTGRES, else the local server CI starts), a check that
// fails the test with how to start it, and fresh schemas dropped when the
// test ends. It imports nothing of coffer, so every package's tests may
// use it.
package pgtest
