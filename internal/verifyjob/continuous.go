package verifyjob

import (
	"context"
	"fmt"
	"io"

	"github.com/cofferbackup/coffer/internal/capturelog"
	"github.com/cofferbackup/coffer/internal/vault"
	"github.com/cofferbackup/coffer/internal/vaultverify"
)

// continuousStreams are the continuous recovery points of vv to check,
// each as its state at its covered time (LatestRestorableTime): every
// version the capture log holds then, read by the engine restores use.
// Versions only an earlier time shows (deleted from the bucket since)
// are not checked.
func continuousStreams(ctx context.Context, vv *vault.Vault) ([]vaultverify.Stream, error) {
	states, err := capturelog.States(ctx, vv)
	if err != nil {
		return nil, fmt.Errorf("read the continuous recovery points: %w", err)
	}
	var out []vaultverify.Stream
	for _, st := range states {
		if st.Covered.IsZero() {
			continue // the initial capture has not finished: nothing restorable yet
		}
		st := st
		out = append(out, vaultverify.Stream{RecoveryPointID: st.RP, Open: func(ctx context.Context) (io.ReadCloser, error) {
			plan, err := capturelog.PlanAt(ctx, vv, st.RP, st.Covered)
			if err != nil {
				return nil, err
			}
			pr, pw := io.Pipe()
			go func() {
				_, err := capturelog.WriteStateAt(ctx, vv, plan, pw)
				pw.CloseWithError(err) //nolint:errcheck // always nil
			}()
			return pr, nil // closing it early unblocks the producer
		}})
	}
	return out, nil
}
