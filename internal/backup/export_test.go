package backup

// SetWindow makes a run use a pipeline window of n items.
func SetWindow(o *Options, n int) { o.window = n }

// FlowMarks returns the high-water marks of the run that produced r: items
// in flight (listed, not yet emitted) and items waiting in the emitter.
func FlowMarks(r Result) (maxInFlight, maxPending int64) {
	return r.peak.inFlight, r.peak.pending
}
