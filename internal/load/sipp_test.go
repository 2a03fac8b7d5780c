package load

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// A -trace_stat file as SIPp 3.6.1 writes it (columns cut down; dates hold tabs).
const sippStatCSV = "StartTime;LastResetTime;CurrentTime;TotalCallCreated;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);FailedMaxUDPRetrans(C);FailedUnexpectedMessage(C);FailedTimeoutOnRecv(C);Retransmissions(C);ResponseTime1(C);\n" +
	"2026-11-23\t22:45:29.486000\t1795473929.486000;2026-11-23\t22:45:29.486000\t1795473929.486000;2026-11-23\t22:45:30.486000\t1795473930.486000;100;50;10;40;0;0;0;0;0;0;00:00:00:001000;\n" +
	"2026-11-23\t22:45:29.486000\t1795473929.486000;2026-11-23\t22:45:42.870873\t1795473942.870873;2026-11-23\t22:45:42.872151\t1795473942.872151;2400;0;0;2390;0;10;1;6;3;17;00:00:00:001402;\n"

func TestParseSIPpStats(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "stat.csv")
	if err := os.WriteFile(p, []byte(sippStatCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	var r sippResult
	if err := r.readStats(p); err != nil {
		t.Fatal(err)
	}
	if r.Created != 2400 || r.Successful != 2390 || r.Failed != 10 || r.Retransmissions != 17 {
		t.Errorf("stats = %+v", r)
	}
	want := map[string]int{"MaxUDPRetrans": 1, "UnexpectedMessage": 6, "TimeoutOnRecv": 3}
	if len(r.FailedBy) != len(want) {
		t.Errorf("failed by = %v, want %v", r.FailedBy, want)
	}
	for k, v := range want {
		if r.FailedBy[k] != v {
			t.Errorf("failed by %s = %d, want %d", k, r.FailedBy[k], v)
		}
	}
	if _, err := parseSIPpStats([]byte("OnlyAHeader;\n")); err == nil {
		t.Error("a header without a row parsed")
	}
}

func TestParseSIPpRTT(t *testing.T) {
	got := parseSIPpRTT([]byte("Date_ms;response_time_ms;rtd_no\n8.001;4;1\n8.002;0.5;1\n\n"))
	if !slices.Equal(got, []float64{4, 0.5}) {
		t.Errorf("rtt = %v", got)
	}
}

func TestSIPpArgs(t *testing.T) {
	args := sippArgs(sippSpec{Scenario: "/s.xml", Dir: "/d", Remote: "127.0.0.1:5060", Port: 5070, MediaPort: 40000,
		Rate: 100, Limit: 300, Calls: 500, RecvTimeout: 17 * time.Second, Bound: 32500 * time.Millisecond}, 9000)
	has := func(flag, value string) {
		t.Helper()
		i := slices.Index(args, flag)
		if i < 0 || i+1 >= len(args) || args[i+1] != value {
			t.Errorf("%s %s missing from %v", flag, value, args)
		}
	}
	has("-r", "100")
	has("-l", "300")
	has("-m", "500")
	has("-p", "5070")
	has("-mp", "40000")
	has("-cp", "9000")
	has("-s", ownedNumber)
	has("-recv_timeout", "17000")
	has("-timeout", "33s")
	if args[len(args)-1] != "127.0.0.1:5060" {
		t.Errorf("remote is not last: %v", args)
	}
	if slices.Contains(args, "-trace_msg") {
		t.Error("message trace on by default")
	}
}
