package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cofferbackup/coffer/internal/vocab"
)

// Extension calls one of coffer's API extensions, which the AWS SDK has
// no method for: a SigV4-signed JSON request, answered with JSON or an
// AWS-style error.
func (s *Session) Extension(ctx context.Context, method, path string, in, out any) error {
	return s.ExtensionWithin(ctx, clientTimeout, method, path, in, out)
}

// ExtensionWithin is Extension for a call that may take up to timeout.
func (s *Session) ExtensionWithin(ctx context.Context, timeout time.Duration, method, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, s.opts.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	// Signed, and new for every call as the SDKs do: the server refuses a
	// second request with a signature it has seen (a replay), and two
	// identical calls within one second would otherwise sign alike.
	req.Header.Set("Amz-Sdk-Invocation-Id", vocab.NewID())
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: s.opts.Creds.AccessKeyID, SecretAccessKey: s.opts.Creds.SecretAccessKey}
	// A signature carries the wall clock's time: the server checks it
	// against its own (15 minutes of skew), not against any injected clock.
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "backup", s.opts.Region, time.Now()); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Message string }
		_ = json.Unmarshal(data, &e)
		code := resp.Header.Get("X-Amzn-Errortype")
		if code == "" {
			code, e.Message = resp.Status, string(data)
		}
		return &smithy.GenericAPIError{Code: code, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}
