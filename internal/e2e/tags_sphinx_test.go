//go:build pocketsphinx

package e2e

// serverTags are the build tags the server under test is built with: the
// same as the tests', so speech recognition is in when they expect it.
const serverTags = "pocketsphinx"
