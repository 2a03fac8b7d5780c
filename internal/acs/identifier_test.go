package acs

import (
	"encoding/json"
	"testing"
)

func TestIdentifierInference(t *testing.T) {
	cases := []struct {
		name, json string
		want       Identifier
		err        bool
	}{
		{"with kind", `{"kind":"phoneNumber","rawId":"4:+14255550123","phoneNumber":{"value":"+14255550123","isAnonymous":false}}`, PhoneNumber("+14255550123"), false},
		{"no kind, nested phone (SDK playTo)", `{"rawId":"4:+14255550123","phoneNumber":{"value":"+14255550123","isAnonymous":false}}`, PhoneNumber("+14255550123"), false},
		{"no kind, nested user", `{"communicationUser":{"id":"8:acs:res_user2"}}`, CommunicationUser("8:acs:res_user2"), false},
		{"rawId only, user", `{"rawId":"8:acs:res_user2"}`, CommunicationUser("8:acs:res_user2"), false},
		{"rawId only, phone", `{"rawId":"4:+14255550123"}`, PhoneNumber("+14255550123"), false},
		{"nested value wins over rawId", `{"kind":"phoneNumber","rawId":"4:+1","phoneNumber":{"value":"+14255550123"}}`, PhoneNumber("+14255550123"), false},
		{"teams user", `{"microsoftTeamsUser":{"userId":"abc"}}`, Identifier{Kind: KindTeamsUser, RawID: "8:orgid:abc"}, false},
		{"unknown rawId", `{"rawId":"something"}`, Identifier{Kind: KindUnknown, RawID: "something"}, false},
		{"empty", `{}`, Identifier{}, true},
		{"unknown kind", `{"kind":"carrierPigeon","rawId":"x"}`, Identifier{}, true},
		{"phone rawId without prefix", `{"kind":"phoneNumber","rawId":"+1425"}`, Identifier{}, true},
		{"user without id", `{"kind":"communicationUser"}`, Identifier{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var m IdentifierModel
			if err := json.Unmarshal([]byte(c.json), &m); err != nil {
				t.Fatal(err)
			}
			got, err := m.Identifier()
			if (err != nil) != c.err || got != c.want {
				t.Fatalf("Identifier() = %+v, %v; want %+v (error %v)", got, err, c.want, c.err)
			}
		})
	}
}

// Responses and events always carry kind, rawId and the nested object.
func TestIdentifierModelRoundTrip(t *testing.T) {
	for _, id := range []Identifier{PhoneNumber("+14255550123"), CommunicationUser("8:acs:res_u1"), {Kind: KindTeamsUser, RawID: "8:orgid:abc"}} {
		m := id.Model()
		b, _ := json.Marshal(m)
		var back IdentifierModel
		json.Unmarshal(b, &back)
		got, err := back.Identifier()
		if err != nil || got != id || back.Kind == "" || back.RawID == "" {
			t.Fatalf("%+v -> %s -> %+v, %v", id, b, got, err)
		}
	}
}

func FuzzIdentifierModel(f *testing.F) {
	f.Add(`{"rawId":"4:+14255550123","phoneNumber":{"value":"+14255550123"}}`)
	f.Add(`{"kind":"communicationUser","communicationUser":{"id":"8:acs:x_y"}}`)
	f.Add(`{"rawId":"28:orgid:app"}`)
	f.Fuzz(func(t *testing.T, s string) {
		var m IdentifierModel
		if json.Unmarshal([]byte(s), &m) != nil {
			return
		}
		id, err := m.Identifier()
		if err == nil && (id.Kind == "" || id.RawID == "") {
			t.Fatalf("accepted an identifier without kind or rawId: %+v from %s", id, s)
		}
	})
}

func TestRejectReasonStatus(t *testing.T) {
	for reason, want := range map[string]int{"": 480, "none": 480, "busy": 486, "forbidden": 403} {
		if got, _, ok := RejectReasonStatus(reason); !ok || got != want {
			t.Errorf("%q -> %d, want %d", reason, got, want)
		}
	}
	if _, _, ok := RejectReasonStatus("maybe"); ok {
		t.Error("unknown reason accepted")
	}
}
