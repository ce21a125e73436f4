package vault

// Safety selects the safety margins of maintenance (vaultmaint.Maintain).
type Safety int

const (
	// SafetyFull is kopia's maintenance.SafetyFull: an unreferenced
	// content is marked deleted only once it is 24 h old, a deleted
	// content is dropped from the index only after two mark-and-sweep runs
	// at least 4 h apart (plus 1 h), an unreferenced pack is removed only
	// once 24 h old (96 h for packs of a session still active), and packs
	// emptied by a rewrite wait 1 h. A backup in another process or on
	// another server therefore never loses what it has just written,
	// although its recovery point is not committed yet. Space is reclaimed
	// over several runs (see docs/format.md).
	SafetyFull Safety = iota

	// SafetySoleWriter is kopia's maintenance.SafetyNone: everything
	// unreferenced goes in one run. It is correct only when nothing but
	// this Vault handle can write to the vault while maintenance runs, that
	// is all of: the vault is on a local filesystem (strongly consistent);
	// one coffer process uses the data directory (SQLite mode, where the
	// data-directory lock refuses a second process) and it opens one Vault
	// handle per vault (its write sessions are then held off by the
	// handle's gate); no other tool opens the repository.
	SafetySoleWriter
)

func (s Safety) String() string {
	if s == SafetySoleWriter {
		return "sole-writer"
	}

	return "full"
}
