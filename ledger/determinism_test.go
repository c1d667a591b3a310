package ledger_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// forbidden are the constructs that would make endorsers disagree (clock,
// randomness, environment, network) or tie the contracts to CouchDB (rich
// queries).
var forbidden = map[string]*regexp.Regexp{
	"rich query":     regexp.MustCompile(`\.GetQueryResult(WithPagination)?\(`),
	"wall clock":     regexp.MustCompile(`\btime\.(Now|Since|Until)\(|timestamppb\.Now\(`),
	"math/rand":      regexp.MustCompile(`"math/rand(/v2)?"`),
	"crypto/rand":    regexp.MustCompile(`"crypto/rand"`),
	"environment":    regexp.MustCompile(`\bos\.(Getenv|LookupEnv|Environ)\(`),
	"network access": regexp.MustCompile(`"net/http"|"net"`),
}

// TestContractsAreDeterministic greps the non-test Go files of ledger/ and
// contracts/ for forbidden constructs.
func TestContractsAreDeterministic(t *testing.T) {
	files := 0
	for _, root := range []string{".", filepath.Join("..", "contracts")} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			for i, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "//") {
					continue
				}
				for what, re := range forbidden {
					if re.MatchString(line) {
						t.Errorf("%s:%d: %s: %s", path, i+1, what, strings.TrimSpace(line))
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 20 {
		t.Fatalf("checked only %d files; wrong directory?", files)
	}
}

func TestForbiddenPatternsMatch(t *testing.T) {
	samples := map[string]string{
		"rich query":     `it, err := stub.GetQueryResult(q)`,
		"wall clock":     `now := time.Now()`,
		"math/rand":      `import "math/rand/v2"`,
		"crypto/rand":    `	"crypto/rand"`,
		"environment":    `v := os.Getenv("X")`,
		"network access": `	"net/http"`,
	}
	for what, line := range samples {
		if !forbidden[what].MatchString(line) {
			t.Errorf("%s: pattern misses %q", what, line)
		}
	}
	if forbidden["wall clock"].MatchString(`ts, err := l.Now()`) {
		t.Error("the transaction clock is flagged")
	}
}
