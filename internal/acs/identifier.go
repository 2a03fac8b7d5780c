package acs

import (
	"fmt"
	"strings"
)

// Identifier kinds, as the wire spells them.
const (
	KindCommunicationUser = "communicationUser"
	KindPhoneNumber       = "phoneNumber"
	KindTeamsUser         = "microsoftTeamsUser"
	KindTeamsApp          = "microsoftTeamsApp"
	KindTeamsExtension    = "teamsExtensionUser"
	KindUnknown           = "unknown"
)

// Identifier is a communication identifier in its canonical form: a kind and
// a rawId (8:acs:<resource>_<id>, 4:+14255550123, ...).
type Identifier struct {
	Kind  string
	RawID string
}

// PhoneNumber returns an identifier for an E.164 number.
func PhoneNumber(e164 string) Identifier {
	return Identifier{Kind: KindPhoneNumber, RawID: "4:" + e164}
}

// CommunicationUser returns an identifier for a communication user id (8:acs:…).
func CommunicationUser(id string) Identifier {
	return Identifier{Kind: KindCommunicationUser, RawID: id}
}

// IsZero reports whether id is unset.
func (id Identifier) IsZero() bool { return id.RawID == "" }

// Phone returns the E.164 number of a phone-number identifier, or "".
func (id Identifier) Phone() string {
	if id.Kind != KindPhoneNumber {
		return ""
	}
	return strings.TrimPrefix(id.RawID, "4:")
}

func (id Identifier) String() string { return id.RawID }

// ParseRawID infers an identifier from its rawId prefix, the way the SDKs'
// createIdentifierFromRawId does.
func ParseRawID(raw string) Identifier {
	switch {
	case strings.HasPrefix(raw, "4:"):
		return Identifier{Kind: KindPhoneNumber, RawID: raw}
	case strings.HasPrefix(raw, "8:acs:"), strings.HasPrefix(raw, "8:spool:"),
		strings.HasPrefix(raw, "8:dod-acs:"), strings.HasPrefix(raw, "8:gcch-acs:"):
		return Identifier{Kind: KindCommunicationUser, RawID: raw}
	case strings.HasPrefix(raw, "8:orgid:"), strings.HasPrefix(raw, "8:dod:"),
		strings.HasPrefix(raw, "8:gcch:"), strings.HasPrefix(raw, "8:teamsvisitor:"):
		return Identifier{Kind: KindTeamsUser, RawID: raw}
	case strings.HasPrefix(raw, "28:"):
		return Identifier{Kind: KindTeamsApp, RawID: raw}
	}
	return Identifier{Kind: KindUnknown, RawID: raw}
}

// IdentifierModel is CommunicationIdentifierModel on the wire. In requests
// kind and rawId are optional (the SDK omits kind in some bodies); responses
// and events always carry both.
type IdentifierModel struct {
	Kind               string                  `json:"kind,omitempty"`
	RawID              string                  `json:"rawId,omitempty"`
	CommunicationUser  *CommunicationUserModel `json:"communicationUser,omitempty"`
	PhoneNumber        *PhoneNumberModel       `json:"phoneNumber,omitempty"`
	MicrosoftTeamsUser *TeamsUserModel         `json:"microsoftTeamsUser,omitempty"`
	MicrosoftTeamsApp  *TeamsAppModel          `json:"microsoftTeamsApp,omitempty"`
}

// CommunicationUserModel is CommunicationUserIdentifierModel.
type CommunicationUserModel struct {
	ID string `json:"id"`
}

// PhoneNumberModel is PhoneNumberIdentifierModel.
type PhoneNumberModel struct {
	Value       string `json:"value"`
	IsAnonymous bool   `json:"isAnonymous,omitempty"`
	AssertedID  string `json:"assertedId,omitempty"`
}

// TeamsUserModel is MicrosoftTeamsUserIdentifierModel.
type TeamsUserModel struct {
	UserID      string `json:"userId"`
	IsAnonymous bool   `json:"isAnonymous,omitempty"`
	Cloud       string `json:"cloud,omitempty"`
}

// TeamsAppModel is MicrosoftTeamsAppIdentifierModel.
type TeamsAppModel struct {
	AppID string `json:"appId"`
	Cloud string `json:"cloud,omitempty"`
}

// Identifier resolves a wire model: the kind comes from "kind", else from the
// nested object present, else from the rawId prefix. The rawId, when absent,
// is built from the nested object.
func (m *IdentifierModel) Identifier() (Identifier, error) {
	if m == nil {
		return Identifier{}, fmt.Errorf("identifier is missing")
	}
	kind := m.Kind
	if kind == "" {
		switch {
		case m.CommunicationUser != nil:
			kind = KindCommunicationUser
		case m.PhoneNumber != nil:
			kind = KindPhoneNumber
		case m.MicrosoftTeamsUser != nil:
			kind = KindTeamsUser
		case m.MicrosoftTeamsApp != nil:
			kind = KindTeamsApp
		case m.RawID != "":
			kind = ParseRawID(m.RawID).Kind
		default:
			return Identifier{}, fmt.Errorf("identifier has neither kind, rawId nor a nested identifier")
		}
	}
	raw := m.RawID
	switch kind {
	case KindCommunicationUser:
		if m.CommunicationUser != nil && m.CommunicationUser.ID != "" {
			raw = m.CommunicationUser.ID
		}
	case KindPhoneNumber:
		if m.PhoneNumber != nil && m.PhoneNumber.Value != "" {
			raw = "4:" + m.PhoneNumber.Value
		}
		if raw != "" && !strings.HasPrefix(raw, "4:") {
			return Identifier{}, fmt.Errorf("phone number rawId %q does not start with 4:", raw)
		}
	case KindTeamsUser:
		if raw == "" && m.MicrosoftTeamsUser != nil {
			raw = "8:orgid:" + m.MicrosoftTeamsUser.UserID
		}
	case KindTeamsApp:
		if raw == "" && m.MicrosoftTeamsApp != nil {
			raw = "28:orgid:" + m.MicrosoftTeamsApp.AppID
		}
	case KindUnknown, KindTeamsExtension:
	default:
		return Identifier{}, fmt.Errorf("identifier kind %q is not known", kind)
	}
	if raw == "" {
		return Identifier{}, fmt.Errorf("%s identifier has no id", kind)
	}
	return Identifier{Kind: kind, RawID: raw}, nil
}

// Model returns the wire form of id with kind, rawId and the nested object.
func (id Identifier) Model() IdentifierModel {
	m := IdentifierModel{Kind: id.Kind, RawID: id.RawID}
	switch id.Kind {
	case KindCommunicationUser:
		m.CommunicationUser = &CommunicationUserModel{ID: id.RawID}
	case KindPhoneNumber:
		m.PhoneNumber = &PhoneNumberModel{Value: id.Phone()}
	case KindTeamsUser:
		_, user, _ := strings.Cut(strings.TrimPrefix(id.RawID, "8:"), ":")
		m.MicrosoftTeamsUser = &TeamsUserModel{UserID: user, Cloud: "public"}
	case KindTeamsApp:
		_, app, _ := strings.Cut(strings.TrimPrefix(id.RawID, "28:"), ":")
		m.MicrosoftTeamsApp = &TeamsAppModel{AppID: app, Cloud: "public"}
	}
	return m
}

// ModelPtr is Model returning a pointer, for optional fields.
func (id Identifier) ModelPtr() *IdentifierModel {
	if id.IsZero() {
		return nil
	}
	m := id.Model()
	return &m
}
