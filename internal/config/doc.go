// Package config defines Switchboard's typed configuration: defaults, YAML
// decoding with unknown keys rejected, SWITCHBOARD_… environment overrides, and
// validation that reports every problem at once.
//
// Every setting is documented in config.sample.yaml at the repository root; a
// test keeps that file and Default() in step.
package config
