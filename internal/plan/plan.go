package plan

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/cofferbackup/coffer/internal/schedule"
	"github.com/cofferbackup/coffer/internal/vocab"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid backup plan")

// Lifecycle is a recovery point's retention.
type Lifecycle struct {
	MoveToColdStorageAfterDays *int64 `json:",omitempty"`
	DeleteAfterDays            *int64 `json:",omitempty"`
}

// CopyAction copies a rule's recovery points to another vault (stored and
// validated now; run once copy jobs exist).
type CopyAction struct {
	DestinationBackupVaultArn string
	Lifecycle                 *Lifecycle `json:",omitempty"`
}

// Rule is one backup rule of a plan.
type Rule struct {
	RuleName                   string
	RuleId                     string `json:",omitempty"` //nolint:revive // AWS spelling
	TargetBackupVaultName      string
	ScheduleExpression         string            `json:",omitempty"`
	ScheduleExpressionTimezone string            `json:",omitempty"`
	StartWindowMinutes         *int64            `json:",omitempty"`
	CompletionWindowMinutes    *int64            `json:",omitempty"`
	Lifecycle                  *Lifecycle        `json:",omitempty"`
	RecoveryPointTags          map[string]string `json:",omitempty"`
	CopyActions                []CopyAction      `json:",omitempty"`
	EnableContinuousBackup     *bool             `json:",omitempty"`
}

// AdvancedBackupSetting sets backup options for one resource type.
type AdvancedBackupSetting struct {
	ResourceType  string
	BackupOptions map[string]string
}

// Document is a backup plan as CreateBackupPlan takes it and GetBackupPlan
// returns it.
type Document struct {
	BackupPlanName         string
	Rules                  []Rule
	AdvancedBackupSettings []AdvancedBackupSetting `json:",omitempty"`
}

var (
	planNameRE = regexp.MustCompile(`^[a-zA-Z0-9\-_.]{1,50}$`)
	ruleNameRE = regexp.MustCompile(`^[a-zA-Z0-9\-_.]{1,50}$`)
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// invalidBound wraps a vocab bound's error (ErrInvalidParameter) as a plan
// error too, saying "invalid parameter" once.
func invalidBound(where string, err error) error {
	return boundError{where: where, err: err}
}

type boundError struct {
	where string
	err   error
}

func (e boundError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalid, e.where, strings.TrimPrefix(e.err.Error(), vocab.ErrInvalidParameter.Error()+": "))
}

func (e boundError) Unwrap() []error { return []error{ErrInvalid, e.err} }

// Validate checks a plan document; vaultExists reports whether a target
// vault exists (nil skips that check).
func (d *Document) Validate(vaultExists func(string) bool) error {
	if !planNameRE.MatchString(d.BackupPlanName) {
		return invalid("BackupPlanName %q must be 1 to 50 letters, digits, '-', '_' or '.'", d.BackupPlanName)
	}
	if len(d.Rules) == 0 {
		return invalid("a backup plan needs at least one rule")
	}
	seen := map[string]bool{}
	continuous := ""
	for i := range d.Rules {
		if d.Rules[i].Continuous() {
			if continuous != "" {
				return invalid("rules %q and %q both enable continuous backup: only one continuous rule may protect a bucket", continuous, d.Rules[i].RuleName)
			}
			continuous = d.Rules[i].RuleName
		}
		r := &d.Rules[i]
		if seen[r.RuleName] {
			return invalid("rule name %q is used twice", r.RuleName)
		}
		seen[r.RuleName] = true
		if err := r.validate(vaultExists); err != nil {
			return err
		}
	}
	for _, s := range d.AdvancedBackupSettings {
		if s.ResourceType != "S3" {
			return invalid("AdvancedBackupSettings for resource type %q: coffer protects S3 only", s.ResourceType)
		}
		if err := vocab.CheckS3BackupOptions(s.BackupOptions); err != nil {
			return invalidBound("AdvancedBackupSettings", err)
		}
	}
	return nil
}

func (r *Rule) validate(vaultExists func(string) bool) error {
	if !ruleNameRE.MatchString(r.RuleName) {
		return invalid("RuleName %q must be 1 to 50 letters, digits, '-', '_' or '.'", r.RuleName)
	}
	if r.TargetBackupVaultName == "" {
		return invalid("rule %q: TargetBackupVaultName is required", r.RuleName)
	}
	if vaultExists != nil && !vaultExists(r.TargetBackupVaultName) {
		return invalid("rule %q: backup vault %q does not exist", r.RuleName, r.TargetBackupVaultName)
	}
	if r.ScheduleExpression != "" {
		if _, err := r.Schedule(time.Time{}); err != nil {
			return invalid("rule %q: %v", r.RuleName, err)
		}
		if err := schedule.ValidateBackupFrequency(r.ScheduleExpression); err != nil {
			return invalid("rule %q: %v", r.RuleName, err)
		}
	}
	if err := r.validateWindows(); err != nil {
		return err
	}
	if err := r.Lifecycle.validate("rule " + r.RuleName); err != nil {
		return err
	}
	if err := r.validateContinuous(); err != nil {
		return err
	}
	// A vocab error (not ErrInvalid): too many tags is LimitExceededException.
	if err := vocab.ValidateTags(r.RecoveryPointTags); err != nil {
		return fmt.Errorf("rule %q: RecoveryPointTags: %w", r.RuleName, err)
	}
	for _, c := range r.CopyActions {
		if _, _, err := vocab.ParseVaultARN(c.DestinationBackupVaultArn); err != nil {
			return invalid("rule %q: CopyActions DestinationBackupVaultArn %q is not a backup vault ARN", r.RuleName, c.DestinationBackupVaultArn)
		}
		if err := c.Lifecycle.validate("rule " + r.RuleName + " copy action"); err != nil {
			return err
		}
	}
	return nil
}

// Continuous reports whether the rule enables continuous backup.
func (r *Rule) Continuous() bool { return r.EnableContinuousBackup != nil && *r.EnableContinuousBackup }

// MaxContinuousDays is the longest retention of a continuous recovery
// point: AWS allows 35 days, coffer (an extension) ten years.
const MaxContinuousDays = 3650

// validateContinuous bounds a continuous rule's retention (1 to
// MaxContinuousDays; none means the longest).
func (r *Rule) validateContinuous() error {
	if !r.Continuous() || r.Lifecycle == nil || r.Lifecycle.DeleteAfterDays == nil {
		return nil
	}
	if d := *r.Lifecycle.DeleteAfterDays; d < 1 || d > MaxContinuousDays {
		return invalid("rule %q: a continuous rule's Lifecycle.DeleteAfterDays must be 1 to %d, not %d", r.RuleName, MaxContinuousDays, d)
	}
	return nil
}

// validateWindows checks the windows against vocab's bounds; the
// completion window must also end an hour after the start window.
func (r *Rule) validateWindows() error {
	where := fmt.Sprintf("rule %q", r.RuleName)
	if w := r.StartWindowMinutes; w != nil {
		if err := vocab.ValidateStartWindow(*w); err != nil {
			return invalidBound(where, err)
		}
	}
	if w := r.CompletionWindowMinutes; w != nil {
		if err := vocab.ValidateCompleteWindow("CompletionWindowMinutes", *w); err != nil {
			return invalidBound(where, err)
		}
		if *w-r.StartWindow() < vocab.MinCompletionAfterStartMinutes {
			return invalid("%s: CompletionWindowMinutes (%d) must be at least %d minutes more than StartWindowMinutes (%d)",
				where, *w, vocab.MinCompletionAfterStartMinutes, r.StartWindow())
		}
	}
	return nil
}

func (l *Lifecycle) validate(where string) error {
	if l == nil {
		return nil
	}
	if err := vocab.ValidateLifecycle(l.DeleteAfterDays, l.MoveToColdStorageAfterDays); err != nil {
		return invalidBound(where, err)
	}
	return nil
}

// StartWindow is the rule's start window in minutes, defaulted.
func (r *Rule) StartWindow() int64 {
	if r.StartWindowMinutes != nil {
		return *r.StartWindowMinutes
	}
	return vocab.DefaultStartWindowMinutes
}

// CompletionWindow is the rule's completion window in minutes, defaulted.
func (r *Rule) CompletionWindow() int64 {
	if r.CompletionWindowMinutes != nil {
		return *r.CompletionWindowMinutes
	}
	return vocab.DefaultCompletionWindowMinutes
}

// Schedule parses the rule's schedule; anchor anchors rate() expressions
// (the plan version's creation time). A rule without a schedule runs only
// on demand: Schedule returns nil, nil.
func (r *Rule) Schedule(anchor time.Time) (*schedule.Schedule, error) {
	if r.ScheduleExpression == "" {
		return nil, nil
	}
	return schedule.Parse(r.ScheduleExpression, r.ScheduleExpressionTimezone, anchor)
}
