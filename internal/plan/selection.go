package plan

import (
	"regexp"
	"strings"
)

// TagPrefix is how a condition key names a resource tag.
const TagPrefix = "aws:ResourceTag/"

// Condition is one tag test.
type Condition struct {
	ConditionKey   string
	ConditionValue string
	ConditionType  string `json:",omitempty"` // ListOfTags only: STRINGEQUALS
}

// Conditions are AND'ed tag tests.
type Conditions struct {
	StringEquals    []Condition `json:",omitempty"`
	StringNotEquals []Condition `json:",omitempty"`
	StringLike      []Condition `json:",omitempty"`
	StringNotLike   []Condition `json:",omitempty"`
}

// Selection assigns resources to a plan, as CreateBackupSelection takes it.
type Selection struct {
	SelectionName string
	IamRoleArn    string
	Resources     []string    `json:",omitempty"`
	NotResources  []string    `json:",omitempty"`
	ListOfTags    []Condition `json:",omitempty"`
	Conditions    *Conditions `json:",omitempty"`
}

var selectionNameRE = regexp.MustCompile(`^[a-zA-Z0-9\-_.]{1,50}$`)

// Validate checks a selection.
func (s *Selection) Validate() error {
	if !selectionNameRE.MatchString(s.SelectionName) {
		return invalid("SelectionName %q must be 1 to 50 letters, digits, '-', '_' or '.'", s.SelectionName)
	}
	if len(s.Resources) == 0 && len(s.ListOfTags) == 0 && s.Conditions.empty() {
		return invalid("selection %q selects nothing: give Resources, ListOfTags or Conditions", s.SelectionName)
	}
	for _, list := range [][]string{s.Resources, s.NotResources} {
		for _, arn := range list {
			if arn != "*" && !strings.HasPrefix(arn, "arn:aws:s3:::") {
				return invalid("selection %q: resource %q is not an S3 bucket ARN (arn:aws:s3:::name, * wildcards allowed)", s.SelectionName, arn)
			}
		}
	}
	for _, c := range s.ListOfTags {
		if c.ConditionType != "" && c.ConditionType != "STRINGEQUALS" {
			return invalid("selection %q: ListOfTags ConditionType must be STRINGEQUALS, not %q", s.SelectionName, c.ConditionType)
		}
		if tagKey(c.ConditionKey) == "" {
			return invalid("selection %q: ListOfTags condition without a key", s.SelectionName)
		}
	}
	if s.Conditions != nil {
		for _, list := range [][]Condition{s.Conditions.StringEquals, s.Conditions.StringNotEquals, s.Conditions.StringLike, s.Conditions.StringNotLike} {
			for _, c := range list {
				if !strings.HasPrefix(c.ConditionKey, TagPrefix) || len(c.ConditionKey) == len(TagPrefix) {
					return invalid("selection %q: condition key %q must be %s<tag key>", s.SelectionName, c.ConditionKey, TagPrefix)
				}
			}
		}
	}
	return nil
}

func (c *Conditions) empty() bool {
	return c == nil || len(c.StringEquals)+len(c.StringNotEquals)+len(c.StringLike)+len(c.StringNotLike) == 0
}

// tagKey strips the optional aws:ResourceTag/ prefix of a ListOfTags key.
func tagKey(k string) string { return strings.TrimPrefix(k, TagPrefix) }

// Matches reports whether the bucket with ARN arn and tags is selected:
// (it matches Resources OR any of ListOfTags) AND every Conditions test
// AND NOT NotResources. With neither Resources nor ListOfTags, Conditions
// alone select among all buckets.
func (s *Selection) Matches(arn string, tags map[string]string) bool {
	base := len(s.Resources) == 0 && len(s.ListOfTags) == 0
	for _, pat := range s.Resources {
		base = base || Wildcard(pat, arn)
	}
	for _, c := range s.ListOfTags {
		v, ok := tags[tagKey(c.ConditionKey)]
		base = base || (ok && v == c.ConditionValue)
	}
	if !base {
		return false
	}
	for _, pat := range s.NotResources {
		if Wildcard(pat, arn) {
			return false
		}
	}
	return s.Conditions.match(tags)
}

func (c *Conditions) match(tags map[string]string) bool {
	if c == nil {
		return true
	}
	value := func(cond Condition) (string, bool) {
		v, ok := tags[strings.TrimPrefix(cond.ConditionKey, TagPrefix)]
		return v, ok
	}
	for _, cond := range c.StringEquals {
		if v, ok := value(cond); !ok || v != cond.ConditionValue {
			return false
		}
	}
	for _, cond := range c.StringNotEquals {
		if v, ok := value(cond); ok && v == cond.ConditionValue {
			return false
		}
	}
	for _, cond := range c.StringLike {
		if v, ok := value(cond); !ok || !Wildcard(cond.ConditionValue, v) {
			return false
		}
	}
	for _, cond := range c.StringNotLike {
		if v, ok := value(cond); ok && Wildcard(cond.ConditionValue, v) {
			return false
		}
	}
	return true
}

// Wildcard matches s against pattern, where * matches any run of
// characters and ? any one character (IAM string-like semantics).
func Wildcard(pattern, s string) bool {
	// Iterative matching with backtracking to the last star: linear in
	// practice, no regexp compilation per call.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
