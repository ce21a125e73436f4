// Package s3xml holds the S3 XML documents coffer reads and writes itself,
// apart from any client: ListVersionsResult pages (with the repairs of
// endpoints that write them out of order) and AccessControlPolicy
// documents. It does no I/O; package s3source sends the requests.
package s3xml
