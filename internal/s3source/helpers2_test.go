package s3source

import (
	"context"
	"encoding/xml"
)

func contextWithCancel(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(ctx)
}

func xmlDecodeHelper(b []byte, v any) error { return xml.Unmarshal(b, v) }
