package info

import "runtime/debug"

// DevVersion is the version of a build that carries neither a release tag
// nor a module version: a local, untagged build.
const DevVersion = "dev"

// Build is what a binary knows of its own build.
type Build struct {
	Version  string // release tag or module version; DevVersion if none
	Commit   string // VCS revision, "" if unknown
	Modified bool   // built from a work tree with uncommitted changes
}

// ReadBuild returns the build of a binary from what was stamped at link
// time (-ldflags "-X main.version=v1.2.3 -X main.commit=<rev> -X
// main.modified=true", as make build does; "" when not stamped) and, for
// what was not, from the Go build info bi (nil if unavailable): the main
// module's version (go install module@v1.2.3, or the VCS tag that go build
// records) and the vcs.revision and vcs.modified settings.
func ReadBuild(version, commit, modified string, bi *debug.BuildInfo) Build {
	b := Build{Version: version, Commit: commit, Modified: modified == "true"}
	if bi != nil {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		if b.Commit == "" {
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					b.Commit = s.Value
				case "vcs.modified":
					b.Modified = s.Value == "true"
				}
			}
		}
	}
	if b.Version == "" {
		b.Version = DevVersion
	}
	return b
}

// String returns the version, then the commit (12 digits) and whether the
// tree was modified: "v1.2.3", "v1.2.3 (commit 0123456789ab)",
// "dev (commit 0123456789ab, modified)".
func (b Build) String() string {
	if b.Commit == "" {
		if b.Modified {
			return b.Version + " (modified)"
		}
		return b.Version
	}
	rev := b.Commit
	if len(rev) > 12 {
		rev = rev[:12]
	}
	s := b.Version + " (commit " + rev
	if b.Modified {
		s += ", modified"
	}
	return s + ")"
}
