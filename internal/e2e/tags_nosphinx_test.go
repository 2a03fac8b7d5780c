//go:build !pocketsphinx

package e2e

// serverTags are the build tags the server under test is built with.
const serverTags = ""
