// Package planapi owns the API's backup plan operations: plans, their
// versions and templates, and their selections, in AWS Backup's JSON
// shapes. It holds no business rules; every operation goes through
// package service.
package planapi
