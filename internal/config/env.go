package config

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment override.
const EnvPrefix = "SWITCHBOARD_"

// ApplyEnv overrides cfg from environment entries ("KEY=value"). The name of a
// setting is its YAML path upper-cased and joined by '_', e.g.
// SWITCHBOARD_HTTP_LISTEN or SWITCHBOARD_MEDIA_PORTMIN. Lists take
// comma-separated values; durations use Go syntax (30s, 5m). Lists of
// structures (trunks, subscriptions) are set in the file only.
func ApplyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) {
			env[k] = v
		}
	}
	if len(env) == 0 {
		return nil
	}
	known := map[string]bool{}
	if err := applyEnv(reflect.ValueOf(cfg).Elem(), strings.TrimSuffix(EnvPrefix, "_"), env, known); err != nil {
		return err
	}
	for k := range env {
		if !known[k] {
			return fmt.Errorf("environment: %s is not a setting", k)
		}
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

func applyEnv(v reflect.Value, prefix string, env map[string]string, known map[string]bool) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := applyEnv(fv, name, env, known); err != nil {
				return err
			}
			continue
		}
		known[name] = true
		raw, ok := env[name]
		if !ok {
			continue
		}
		if err := setValue(fv, raw); err != nil {
			return fmt.Errorf("environment %s: %w", name, err)
		}
	}
	return nil
}

func setValue(fv reflect.Value, raw string) error {
	switch {
	case fv.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		fv.SetInt(int64(d))
	case fv.Kind() == reflect.String:
		fv.SetString(raw)
	case fv.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return err
		}
		fv.SetInt(int64(n))
	case fv.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return err
		}
		fv.SetFloat(f)
	case fv.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		fv.SetBool(b)
	case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
		var out []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		fv.Set(reflect.ValueOf(out))
	default:
		return fmt.Errorf("cannot be set from the environment; use the config file")
	}
	return nil
}

func checkBase64(k string) error {
	b, err := base64.StdEncoding.DecodeString(k)
	if err != nil {
		return fmt.Errorf("not base64: %v", err)
	}
	if len(b) < 16 {
		return fmt.Errorf("too short (%d bytes; use at least 16, 32 recommended)", len(b))
	}
	return nil
}
