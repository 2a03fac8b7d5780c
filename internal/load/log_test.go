package load

import "testing"

func TestLogKey(t *testing.T) {
	for line, want := range map[string]string{
		`time=2026-11-23T22:44:03.239Z level=WARN msg="media clock fell behind; skipping frames" component=media frames=5ns`: "WARN: media clock fell behind; skipping frames",
		`time=2026-11-23T22:44:03.239Z level=ERROR msg=boom err="x"`:                                                         "ERROR: boom",
		`panic: runtime error: index out of range`:                                                                           "OTHER: panic: runtime error: index out of range",
	} {
		if got := logKey([]byte(line)); got != want {
			t.Errorf("logKey(%q) = %q, want %q", line, got, want)
		}
	}
	d := logDelta(map[string]int{"WARN: a": 2, "WARN: b": 1}, map[string]int{"WARN: a": 5, "WARN: b": 1, "ERROR: c": 1})
	if len(d) != 2 || d["WARN: a"] != 3 || d["ERROR: c"] != 1 {
		t.Errorf("logDelta = %v", d)
	}
}
