package plan

import (
	"errors"
	"testing"
)

func TestWildcard(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"*", "anything", true}, {"arn:aws:s3:::logs-*", "arn:aws:s3:::logs-2026", true},
		{"arn:aws:s3:::logs-*", "arn:aws:s3:::log-2026", false}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"*-prod", "db-prod", true}, {"*-prod", "db-prod-old", false}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
		{"", "", true}, {"", "x", false}, {"**", "x", true},
	}
	for _, tt := range tests {
		if got := Wildcard(tt.pat, tt.s); got != tt.want {
			t.Errorf("Wildcard(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

func TestSelectionMatches(t *testing.T) {
	prod := map[string]string{"env": "prod", "backup": "true", "team": "storage-eu"}
	dev := map[string]string{"env": "dev", "backup": "true"}
	tests := []struct {
		name string
		sel  Selection
		arn  string
		tags map[string]string
		want bool
	}{
		{"by arn", Selection{Resources: []string{"arn:aws:s3:::a"}}, "arn:aws:s3:::a", nil, true},
		{"other arn", Selection{Resources: []string{"arn:aws:s3:::a"}}, "arn:aws:s3:::b", nil, false},
		{"wildcard", Selection{Resources: []string{"arn:aws:s3:::logs-*"}}, "arn:aws:s3:::logs-1", nil, true},
		{"not resources", Selection{Resources: []string{"*"}, NotResources: []string{"arn:aws:s3:::tmp-*"}}, "arn:aws:s3:::tmp-1", nil, false},
		{"list of tags OR", Selection{ListOfTags: []Condition{{ConditionKey: "backup", ConditionValue: "yes"}, {ConditionKey: "aws:ResourceTag/env", ConditionValue: "prod"}}}, "arn:aws:s3:::x", prod, true},
		{"list of tags none", Selection{ListOfTags: []Condition{{ConditionKey: "env", ConditionValue: "prod"}}}, "arn:aws:s3:::x", dev, false},
		{"resources OR tags", Selection{Resources: []string{"arn:aws:s3:::a"}, ListOfTags: []Condition{{ConditionKey: "env", ConditionValue: "prod"}}}, "arn:aws:s3:::z", prod, true},
		{"conditions AND", Selection{Resources: []string{"*"}, Conditions: &Conditions{StringEquals: []Condition{{ConditionKey: "aws:ResourceTag/env", ConditionValue: "prod"}}, StringLike: []Condition{{ConditionKey: "aws:ResourceTag/team", ConditionValue: "storage-*"}}}}, "arn:aws:s3:::x", prod, true},
		{"conditions fail like", Selection{Resources: []string{"*"}, Conditions: &Conditions{StringLike: []Condition{{ConditionKey: "aws:ResourceTag/team", ConditionValue: "db-*"}}}}, "arn:aws:s3:::x", prod, false},
		{"not equals", Selection{Resources: []string{"*"}, Conditions: &Conditions{StringNotEquals: []Condition{{ConditionKey: "aws:ResourceTag/env", ConditionValue: "dev"}}}}, "arn:aws:s3:::x", dev, false},
		{"not equals absent tag", Selection{Resources: []string{"*"}, Conditions: &Conditions{StringNotEquals: []Condition{{ConditionKey: "aws:ResourceTag/env", ConditionValue: "dev"}}}}, "arn:aws:s3:::x", nil, true},
		{"not like", Selection{Conditions: &Conditions{StringNotLike: []Condition{{ConditionKey: "aws:ResourceTag/env", ConditionValue: "pr*"}}}}, "arn:aws:s3:::x", prod, false},
		{"conditions only select all", Selection{Conditions: &Conditions{StringEquals: []Condition{{ConditionKey: "aws:ResourceTag/backup", ConditionValue: "true"}}}}, "arn:aws:s3:::x", dev, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sel.Matches(tt.arn, tt.tags); got != tt.want {
				t.Fatalf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSelectionValidate(t *testing.T) {
	tests := []struct {
		name string
		sel  Selection
		ok   bool
	}{
		{"ok", Selection{SelectionName: "s", Resources: []string{"arn:aws:s3:::a*"}}, true},
		{"empty", Selection{SelectionName: "s"}, false},
		{"bad name", Selection{SelectionName: "a b", Resources: []string{"*"}}, false},
		{"not s3", Selection{SelectionName: "s", Resources: []string{"arn:aws:ec2:us-east-1:1:instance/i"}}, false},
		{"bad type", Selection{SelectionName: "s", ListOfTags: []Condition{{ConditionKey: "k", ConditionValue: "v", ConditionType: "STRINGLIKE"}}}, false},
		{"bad condition key", Selection{SelectionName: "s", Conditions: &Conditions{StringEquals: []Condition{{ConditionKey: "env", ConditionValue: "v"}}}}, false},
	}
	for _, tt := range tests {
		err := tt.sel.Validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: Validate() = %v", tt.name, err)
		}
	}
}
