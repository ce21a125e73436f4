// Package vaultapi owns the API's operations on vaults and the resources around them:
// backup vaults (create, describe, list, delete, attach, verify), recovery
// points, vault locks and air-gapped vaults, legal holds, tags and
// protected resources, and named S3 connections, in AWS Backup's JSON
// shapes with coffer's extensions (docs/api.md). It holds no business
// rules; every operation goes through package service.
package vaultapi
