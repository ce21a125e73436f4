package restore

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzItems: ItemsToRestore as the API receives it (a JSON array in a
// metadata string). ParseItems never panics, accepts only items of the
// recovery point's bucket and returns their keys as given; the matcher
// built from them selects a key exactly when one of them prefixes it.
func FuzzItems(f *testing.F) {
	for _, s := range []struct{ items, bucket, key string }{
		{`["s3://photos/2024/","s3://photos/a.txt"]`, "photos", "2024/x.jpg"},
		{`["s3://photos"]`, "photos", "anything"},
		{`["s3://photos/"]`, "photos", ""},
		{`["s3://other/x"]`, "photos", "x"},
		{`["s3:///x"]`, "photos", "x"},
		{`["photos/x"]`, "photos", "x"},
		{`["s3://photos/a","s3://photos/ab","s3://photos/a/b","s3://photos/b"]`, "photos", "ab/c"},
		{`["s3://photos/é/\n/%20","s3://photos//x"]`, "photos", "é/\n/%20/y"},
		{`[]`, "photos", "k"},
		{`["s3://photos/\u0000"]`, "photos", "\u0000x"},
	} {
		f.Add(s.items, s.bucket, s.key)
	}
	f.Fuzz(func(t *testing.T, raw, bucket, key string) {
		var items []string
		if json.Unmarshal([]byte(raw), &items) != nil {
			return
		}
		prefixes, err := ParseItems(items, bucket)
		if err != nil {
			return
		}
		if len(prefixes) != len(items) {
			t.Fatalf("%d items gave %d prefixes", len(items), len(prefixes))
		}
		for i, p := range prefixes {
			whole := p == "" && items[i] == "s3://"+bucket
			if !whole && items[i] != "s3://"+bucket+"/"+p {
				t.Fatalf("item %q gave prefix %q for bucket %q", items[i], p, bucket)
			}
		}
		m := newMatcher(prefixes)
		for _, k := range append([]string{key}, prefixes...) {
			want := len(prefixes) == 0
			for _, p := range prefixes {
				want = want || strings.HasPrefix(k, p)
			}
			if got := m.match(k); got != want {
				t.Fatalf("prefixes %q: match(%q) = %v, want %v", prefixes, k, got, want)
			}
		}
	})
}
