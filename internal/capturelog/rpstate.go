package capturelog

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferbackup/coffer/internal/vault"
)

// TypeState is the manifest type of a continuous recovery point's own
// description (one per recovery point, rewritten by every capture):
// what a catalog rebuild registers it from.
const TypeState = vault.CaptureManifestPrefix + "state"

// Gap is a span [From, To) whose changes may be missing (protection was
// stopped), with why.
type Gap struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason"`
}

// State describes continuous recovery point RP (its id): what it
// protects and its window. Covered is LatestRestorableTime: every change
// up to it is in committed segments; Start is when the initial capture
// began (the earliest time a restore can be exact).
type State struct {
	RP              string            `json:"rp"`
	ARN             string            `json:"arn"`
	VaultName       string            `json:"vault_name"`
	ResourceARN     string            `json:"resource_arn"`
	Connection      string            `json:"connection"`
	Bucket          string            `json:"bucket"`
	Endpoint        string            `json:"endpoint,omitempty"`
	PlanID          string            `json:"plan_id,omitempty"`
	RuleID          string            `json:"rule_id,omitempty"`
	Options         map[string]string `json:"options,omitempty"`
	DeleteAfterDays int64             `json:"delete_after_days"`
	CreatedAt       time.Time         `json:"created_at"`
	Status          string            `json:"status"`
	StatusMessage   string            `json:"status_message,omitempty"`
	Start           time.Time         `json:"start"`
	Covered         time.Time         `json:"covered"`
	LastScanStart   time.Time         `json:"last_scan_start"`
	Gaps            []Gap             `json:"gaps,omitempty"`
	// Compacted is the start of the log after retention (Retain): no
	// restore before it is exact (EarliestRestorableTime is at least it).
	Compacted time.Time `json:"compacted,omitzero"`
	// Versions and Bytes count what the capture log holds (duplicates of
	// a version counted once per capture).
	Versions int64 `json:"versions"`
	Bytes    int64 `json:"bytes"`
}

// PutState replaces the state manifest of st.RP in session w (with the
// segments the session commits, so covered time never runs ahead of them).
func PutState(ctx context.Context, w *vault.Writer, st State) error {
	if st.RP == "" {
		return fmt.Errorf("%w: a state needs its recovery point", ErrInvalid)
	}
	labels := map[string]string{labelRP: st.RP}
	if _, err := DeleteManifests(ctx, w, TypeState, labels); err != nil {
		return fmt.Errorf("capture log %q: %w", st.RP, err)
	}
	if err := putManifest(ctx, w, TypeState, labels, st); err != nil {
		return fmt.Errorf("capture log %q: %w", st.RP, err)
	}
	return nil
}

// LoadState returns the committed state of rp; found is false if none.
func LoadState(ctx context.Context, v *vault.Vault, rp string) (st State, found bool, err error) {
	all, err := loadManifests[State](ctx, v, TypeState, rp)
	if err != nil || len(all) == 0 {
		return State{}, false, err
	}
	return all[len(all)-1], true, nil // oldest first: a crash between delete and put cannot leave two, but the newest wins
}

// States returns the committed state of every continuous recovery point
// of the vault (for the catalog's rebuild and reconciliation).
func States(ctx context.Context, v *vault.Vault) ([]State, error) {
	raws, err := loadAll[State](ctx, v, TypeState)
	if err != nil {
		return nil, err
	}
	latest := map[string]int{}
	var out []State
	for _, st := range raws {
		if i, ok := latest[st.RP]; ok {
			out[i] = st
			continue
		}
		latest[st.RP] = len(out)
		out = append(out, st)
	}
	return out, nil
}
