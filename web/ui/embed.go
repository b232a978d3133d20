// Package ui holds the dashboard, the single-page app built from this
// directory's TypeScript sources into dist/ and embedded in the binary.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Files returns the built app rooted at its index.html, or nil when the
// binary was built without it (dist/ holds only its placeholder until
// `make build` runs the front end's build).
func Files() fs.FS {
	f, _ := fs.Sub(dist, "dist")
	if _, err := fs.Stat(f, "index.html"); err != nil {
		return nil
	}
	return f
}
