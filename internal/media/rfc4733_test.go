package media

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

type evPkt struct {
	ssrc, ts uint32
	event    uint8
	end      bool
	dur      uint16
}

// run feeds packets to a fresh receiver and describes the reports.
func runEvents(pkts []evPkt) string {
	var r dtmfReceiver
	var out []string
	for _, p := range pkts {
		rep, err := r.receive(p.ssrc, p.ts, eventPayload(p.event, p.end, p.dur))
		if err != nil {
			out = append(out, "err")
		}
		if rep.onset {
			out = append(out, fmt.Sprintf("%c@%d", rep.digit, rep.duration))
		}
		if rep.end {
			out = append(out, fmt.Sprintf("/%c@%d", rep.digit, rep.duration))
		}
	}
	return strings.Join(out, " ")
}

func TestDTMFReceiver(t *testing.T) {
	tests := []struct {
		name string
		pkts []evPkt
		want string
	}{
		{"duration 0 first, updates, triple end", []evPkt{
			{1, 100, 1, false, 0}, {1, 100, 1, false, 160}, {1, 100, 1, false, 320},
			{1, 100, 1, true, 480}, {1, 100, 1, true, 480}, {1, 100, 1, true, 480},
		}, "1@0 /1@480"},
		{"all digits", func() []evPkt {
			var p []evPkt
			for e := range 16 {
				p = append(p, evPkt{1, uint32(1000 * (e + 1)), uint8(e), true, 400})
			}
			return p
		}(), "0@400 /0@400 1@400 /1@400 2@400 /2@400 3@400 /3@400 4@400 /4@400 5@400 /5@400 6@400 /6@400 7@400 /7@400 " +
			"8@400 /8@400 9@400 /9@400 *@400 /*@400 #@400 /#@400 A@400 /A@400 B@400 /B@400 C@400 /C@400 D@400 /D@400"},
		{"start lost", []evPkt{{1, 100, 11, true, 800}, {1, 100, 11, true, 800}}, "#@800 /#@800"},
		{"end lost then next digit", []evPkt{{1, 100, 3, false, 160}, {1, 900, 4, false, 160}}, "3@160 4@160"},
		{"same digit twice", []evPkt{{1, 100, 2, true, 320}, {1, 100, 2, true, 320}, {1, 500, 2, false, 0}, {1, 500, 2, true, 320}}, "2@320 /2@320 2@0 /2@320"},
		{"late packets of earlier event ignored", []evPkt{
			{1, 100, 1, false, 160}, {1, 500, 2, false, 160}, {1, 100, 1, true, 480}, {1, 100, 1, false, 320}, {1, 500, 2, true, 320},
		}, "1@160 2@160 /2@320"},
		{"reordered update after end", []evPkt{{1, 100, 7, true, 480}, {1, 100, 7, false, 320}}, "7@480 /7@480"},
		{"conflicting event on same timestamp", []evPkt{{1, 100, 7, false, 160}, {1, 100, 8, true, 320}}, "7@160"},
		{"SSRC change with same timestamp", []evPkt{{1, 100, 1, true, 160}, {2, 100, 5, false, 0}, {2, 100, 5, true, 320}}, "1@160 /1@160 5@0 /5@320"},
		{"timestamp wrap", []evPkt{{1, 0xFFFFFF00, 1, true, 160}, {1, 0x10, 2, false, 0}, {1, 0xFFFFFF00, 1, true, 160}}, "1@160 /1@160 2@0"},
		{"sender timestamp reset", []evPkt{{1, 900000, 1, true, 160}, {1, 100, 2, false, 0}}, "1@160 /1@160 2@0"},
		{"long event continues in a new segment", []evPkt{
			{1, 1000, 9, false, 0}, {1, 1000, 9, false, 0xFFFF}, {1, 1000 + 0xFFFF, 9, false, 800}, {1, 1000 + 0xFFFF, 9, true, 1600},
		}, "9@0 /9@67135"},
		{"hook flash and unknown events ignored", []evPkt{{1, 100, 16, false, 0}, {1, 200, 200, true, 0}, {1, 300, 0, false, 0}}, "0@0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runEvents(tt.pkts); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	var r dtmfReceiver
	if _, err := r.receive(1, 1, []byte{1, 2, 3}); err == nil {
		t.Fatal("short payload accepted")
	}
	if d := (dtmfReport{digit: '5', duration: 800}).event(); d.Digit != '5' || d.Duration != 100e6 {
		t.Fatalf("event() = %+v", d)
	}
}

// FuzzRFC4733 feeds packet sequences (8 bytes each: SSRC selector, 3-byte
// timestamp, 4-byte payload) and checks the invariants: each report is a
// valid digit, consecutive onsets are different events, and each event
// ends at most once, after its onset.
func FuzzRFC4733(f *testing.F) {
	f.Add([]byte{0, 0, 0, 100, 1, 10, 0, 0, 0, 0, 0, 100, 1, 0x8A, 1, 0, 0, 0, 0, 100, 1, 0x8A, 1, 0})
	f.Add([]byte{1, 0, 1, 0, 11, 0x8A, 3, 32, 2, 0, 1, 0, 11, 0x8A, 3, 32})
	f.Add([]byte{0, 0xFF, 0xFF, 0xFF, 16, 0, 0, 0, 0, 0, 0, 1, 3, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r dtmfReceiver
		type key struct{ ssrc, ts uint32 }
		var last key
		haveOnset, ended := false, false
		for len(data) > 0 {
			rec := data[:min(8, len(data))]
			data = data[len(rec):]
			if len(rec) < 4 {
				break
			}
			ssrc := uint32(rec[0] % 3)
			ts := uint32(rec[1])<<16 | uint32(binary.BigEndian.Uint16(rec[2:]))
			rep, err := r.receive(ssrc, ts*40, rec[4:])
			if err != nil {
				if len(rec) >= 8 {
					t.Fatalf("error on a full payload: %v", err)
				}
				continue
			}
			if (rep.onset || rep.end) && !strings.ContainsRune(dtmfDigits, rune(rep.digit)) {
				t.Fatalf("invalid digit %q", rep.digit)
			}
			if rep.onset {
				k := key{ssrc, ts * 40}
				if haveOnset && k == last {
					t.Fatalf("event %+v reported twice in a row", k)
				}
				last, haveOnset, ended = k, true, false
			}
			if rep.end {
				if !haveOnset || ended {
					t.Fatalf("end without onset or ended twice")
				}
				ended = true
			}
		}
	})
}
