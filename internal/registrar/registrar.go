package registrar

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math"
	"net"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Credentials supplies SIP passwords. It is implemented by the user store.
type Credentials interface {
	// Password returns the SIP password for username, ok=false if unknown.
	Password(ctx context.Context, username string) (password string, ok bool, err error)
}

// Options tune a Registrar. Zero fields take the documented defaults.
type Options struct {
	// MinExpires is the shortest accepted registration (default 60s);
	// shorter non-zero requests get 423 Interval Too Brief.
	MinExpires time.Duration
	// MaxExpires caps granted registrations (default 3600s).
	MaxExpires time.Duration
	// DefaultExpires applies when the request states none (default 3600s).
	DefaultExpires time.Duration
	// NonceTTL is how long a challenge nonce stays valid (default 5 min).
	NonceTTL time.Duration
	// MaxBindingsPerUser limits contacts per user (default 10); when
	// exceeded the bindings expiring soonest are dropped.
	MaxBindingsPerUser int
	// Secret keys the nonce HMAC. Default: 32 random bytes, so nonces do not
	// survive a restart (clients simply get a fresh challenge).
	Secret []byte
	// CredentialsTimeout bounds one Credentials.Password call (default 5s).
	CredentialsTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.MinExpires <= 0 {
		o.MinExpires = 60 * time.Second
	}
	if o.MaxExpires <= 0 {
		o.MaxExpires = 3600 * time.Second
	}
	if o.MaxExpires < o.MinExpires {
		o.MaxExpires = o.MinExpires
	}
	if o.DefaultExpires <= 0 {
		o.DefaultExpires = 3600 * time.Second
	}
	o.DefaultExpires = min(max(o.DefaultExpires, o.MinExpires), o.MaxExpires)
	if o.NonceTTL <= 0 {
		o.NonceTTL = 5 * time.Minute
	}
	if o.MaxBindingsPerUser <= 0 {
		o.MaxBindingsPerUser = 10
	}
	if o.CredentialsTimeout <= 0 {
		o.CredentialsTimeout = 5 * time.Second
	}
}

// Binding is one registered contact of a user.
type Binding struct {
	// Username is the authenticated SIP user (the AOR user part).
	Username string
	// Contact is the registered Contact URI.
	Contact sip.Uri
	// ContactParams are the Contact header parameters other than expires
	// (for example q, +sip.instance, reg-id).
	ContactParams sip.HeaderParams
	// Transport the REGISTER arrived on: "UDP", "TCP", "TLS", "WS", "WSS".
	Transport string
	// Source is the ip:port the REGISTER came from.
	Source string
	// Expires is when the binding lapses.
	Expires time.Time
	// CallID and CSeq of the REGISTER that last refreshed the binding.
	CallID string
	CSeq   uint32
	// UserAgent is the User-Agent header of that REGISTER, if any.
	UserAgent string
}

// Destination returns where requests for this binding should be sent: the
// address the REGISTER came from (which traverses NAT, and for connection
// transports is the client's connection), falling back to the Contact's
// host:port.
func (b Binding) Destination() string {
	if b.Source != "" {
		return b.Source
	}
	host := strings.TrimSuffix(strings.TrimPrefix(b.Contact.Host, "["), "]") // sipgo keeps IPv6 brackets
	return net.JoinHostPort(host, strconv.Itoa(portOf(b.Contact)))
}

func (b Binding) clone() Binding {
	b.Contact = *b.Contact.Clone()
	b.ContactParams = b.ContactParams.Clone()
	return b
}

// Registrar is an in-memory SIP registrar. It is safe for concurrent use.
type Registrar struct {
	creds  Credentials
	realm  string
	log    *slog.Logger
	now    func() time.Time
	opts   Options
	secret []byte

	mu        sync.Mutex
	bindings  map[string][]Binding // by username
	lastSweep time.Time
}

// New returns a Registrar for realm. A nil log discards logs; a nil now
// means [time.Now].
func New(creds Credentials, realm string, log *slog.Logger, now func() time.Time, opts Options) *Registrar {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	opts.setDefaults()
	secret := slices.Clone(opts.Secret)
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	opts.Secret = nil
	return &Registrar{
		creds:    creds,
		realm:    realm,
		log:      log,
		now:      now,
		opts:     opts,
		secret:   secret,
		bindings: map[string][]Binding{},
	}
}

// Lookup returns the unexpired bindings of username (copies), soonest
// expiring first.
func (r *Registrar) Lookup(username string) []Binding {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.pruneLocked(username, now)
	out := make([]Binding, len(list))
	for i, b := range list {
		out[i] = b.clone()
	}
	return out
}

// pruneLocked drops username's expired bindings and returns the rest.
func (r *Registrar) pruneLocked(username string, now time.Time) []Binding {
	list := slices.DeleteFunc(r.bindings[username], func(b Binding) bool { return !now.Before(b.Expires) })
	if len(list) == 0 {
		delete(r.bindings, username)
		return nil
	}
	r.bindings[username] = list
	return list
}

// sweepLocked prunes every user at most once a minute.
func (r *Registrar) sweepLocked(now time.Time) {
	if now.Sub(r.lastSweep) < time.Minute && !now.Before(r.lastSweep) {
		return
	}
	r.lastSweep = now
	for u := range r.bindings {
		r.pruneLocked(u, now)
	}
}

// HandleRegister processes a REGISTER request; it can be passed to sipgo's
// Server.OnRegister. It always sends exactly one final response.
func (r *Registrar) HandleRegister(req *sip.Request, tx sip.ServerTransaction) {
	if req == nil || tx == nil {
		return
	}
	defer r.recoverPanic(req, tx)

	if req.Method != sip.REGISTER {
		r.respond(req, tx, sip.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	callID, cseq, aor, reason := validateRegister(req)
	if reason != "" {
		r.respond(req, tx, sip.StatusBadRequest, reason)
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), r.opts.CredentialsTimeout)
	defer cancel()
	user, outcome, why := r.checkDigest(ctx, req, "Authorization")
	switch outcome {
	case authChallenge, authStale:
		r.log.Debug("SIP REGISTER challenged", "aor", aor.User, "source", req.Source(), "reason", why)
		r.respond(req, tx, sip.StatusUnauthorized, "Unauthorized",
			sip.NewHeader("WWW-Authenticate", r.challenge(outcome == authStale)))
		return
	case authBad:
		r.log.Info("SIP REGISTER with malformed credentials", "aor", aor.User, "source", req.Source(), "reason", why)
		r.respond(req, tx, sip.StatusBadRequest, "Bad Authorization Header")
		return
	case authError:
		r.respond(req, tx, sip.StatusInternalServerError, "Server Internal Error")
		return
	}
	if aor.User != user {
		r.log.Warn("SIP REGISTER for another user", "auth_user", user, "aor", aor.User, "source", req.Source())
		r.respond(req, tx, sip.StatusForbidden, "Forbidden")
		return
	}

	changes, wildcard, status, reason := r.parseContacts(req)
	if status != 0 {
		hdrs := []sip.Header(nil)
		if status == sip.StatusIntervalToBrief {
			hdrs = append(hdrs, sip.NewHeader("Min-Expires", strconv.Itoa(int(r.opts.MinExpires/time.Second))))
		}
		r.respond(req, tx, status, reason, hdrs...)
		return
	}

	now := r.now()
	current, ok := r.apply(user, req, callID, cseq, changes, wildcard, now)
	if !ok {
		r.respond(req, tx, sip.StatusInternalServerError, "Out Of Order CSeq")
		return
	}

	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	for _, b := range current {
		params := b.ContactParams.Clone()
		params.Add("expires", strconv.Itoa(remaining(b.Expires, now)))
		res.AppendHeader(&sip.ContactHeader{Address: *b.Contact.Clone(), Params: params})
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")))
	if err := tx.Respond(res); err != nil {
		r.log.Warn("SIP REGISTER response failed", "username", user, "error", err)
		return
	}
	r.log.Info("SIP registration updated", "username", user, "source", req.Source(),
		"transport", req.Transport(), "bindings", len(current))
}

// Authenticate verifies the Proxy-Authorization of a request from a
// registered user (typically an INVITE). On success it returns the
// authenticated username and ok=true without responding. Otherwise it has
// already responded — 407 with a Proxy-Authenticate challenge, 400 for
// malformed credentials or 500 if the credential store failed — and returns
// ok=false. Use the returned username, not the From header, as the caller's
// identity.
func (r *Registrar) Authenticate(req *sip.Request, tx sip.ServerTransaction) (username string, ok bool) {
	if req == nil || tx == nil {
		return "", false
	}
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("panic in SIP authentication", "panic", p, "stack", string(debug.Stack()))
			r.respondAfterPanic(req, tx)
			username, ok = "", false
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.CredentialsTimeout)
	defer cancel()
	user, outcome, why := r.checkDigest(ctx, req, "Proxy-Authorization")
	switch outcome {
	case authOK:
		return user, true
	case authChallenge, authStale:
		r.log.Debug("SIP request challenged", "method", req.Method, "source", req.Source(), "reason", why)
		r.respond(req, tx, sip.StatusProxyAuthRequired, "Proxy Authentication Required",
			sip.NewHeader("Proxy-Authenticate", r.challenge(outcome == authStale)))
	case authBad:
		r.log.Info("SIP request with malformed credentials", "method", req.Method, "source", req.Source(), "reason", why)
		r.respond(req, tx, sip.StatusBadRequest, "Bad Proxy-Authorization Header")
	default:
		r.respond(req, tx, sip.StatusInternalServerError, "Server Internal Error")
	}
	return "", false
}

// validateRegister checks the headers a REGISTER must carry.
func validateRegister(req *sip.Request) (callID string, cseq uint32, aor sip.Uri, reason string) {
	if req.Via() == nil {
		return "", 0, aor, "Missing Via"
	}
	if req.From() == nil {
		return "", 0, aor, "Missing From"
	}
	to := req.To()
	if to == nil {
		return "", 0, aor, "Missing To"
	}
	cid := req.CallID()
	if cid == nil || cid.Value() == "" {
		return "", 0, aor, "Missing Call-ID"
	}
	cs := req.CSeq()
	if cs == nil {
		return "", 0, aor, "Missing CSeq"
	}
	if cs.MethodName != sip.REGISTER {
		return "", 0, aor, "CSeq Method Mismatch"
	}
	if s := schemeOf(to.Address); (s != "sip" && s != "sips") || to.Address.User == "" {
		return "", 0, aor, "Invalid To URI"
	}
	return cid.Value(), cs.SeqNo, to.Address, ""
}

// contactChange is one Contact of a REGISTER with its requested lifetime.
type contactChange struct {
	uri     sip.Uri
	params  sip.HeaderParams // without expires
	expires time.Duration    // 0 = remove
}

// parseContacts extracts and validates the Contact headers. status is 0 on
// success, else the response to send.
func (r *Registrar) parseContacts(req *sip.Request) (changes []contactChange, wildcard bool, status int, reason string) {
	hdrExpires, hasHdrExpires := time.Duration(0), false
	if h := req.GetHeader("Expires"); h != nil {
		d, err := parseExpires(h.Value())
		if err != nil {
			return nil, false, sip.StatusBadRequest, "Invalid Expires"
		}
		hdrExpires, hasHdrExpires = d, true
	}

	var contacts []*sip.ContactHeader
	for _, h := range req.GetHeaders("Contact") {
		switch c := h.(type) {
		case *sip.ContactHeader:
			contacts = append(contacts, c)
		default: // not parsed by the SIP parser (e.g. built by hand)
			pc := &sip.ContactHeader{}
			name, err := sip.ParseAddressValue(h.Value(), &pc.Address, &pc.Params)
			if err != nil {
				return nil, false, sip.StatusBadRequest, "Invalid Contact"
			}
			pc.DisplayName = name
			contacts = append(contacts, pc)
		}
	}

	for _, c := range contacts {
		if c.Address.Wildcard {
			if len(contacts) != 1 || !hasHdrExpires || hdrExpires != 0 {
				return nil, false, sip.StatusBadRequest, "Invalid Wildcard Contact"
			}
			return nil, true, 0, ""
		}
	}

	for _, c := range contacts {
		if s := schemeOf(c.Address); (s != "sip" && s != "sips") || c.Address.Host == "" {
			return nil, false, sip.StatusBadRequest, "Invalid Contact URI"
		}
		exp := r.opts.DefaultExpires
		if hasHdrExpires {
			exp = hdrExpires
		}
		params := sip.NewParams()
		for _, kv := range c.Params {
			if strings.EqualFold(kv.K, "expires") {
				d, err := parseExpires(kv.V)
				if err != nil {
					return nil, false, sip.StatusBadRequest, "Invalid Contact Expires"
				}
				exp = d
				continue
			}
			params = append(params, kv)
		}
		if exp > 0 && exp < r.opts.MinExpires {
			return nil, false, sip.StatusIntervalToBrief, "Interval Too Brief"
		}
		exp = min(exp, r.opts.MaxExpires)
		changes = append(changes, contactChange{uri: *c.Address.Clone(), params: params, expires: exp})
	}
	return changes, false, 0, ""
}

// parseExpires parses delta-seconds; values beyond 2^32-1 saturate.
func parseExpires(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, fmt.Errorf("empty expires")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("invalid expires %q", v)
		}
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		n = math.MaxUint32
	}
	return time.Duration(n) * time.Second, nil
}

// apply updates username's bindings atomically. ok=false means the request
// is out of order (same Call-ID, CSeq not higher) and nothing changed.
func (r *Registrar) apply(username string, req *sip.Request, callID string, cseq uint32, changes []contactChange, wildcard bool, now time.Time) ([]Binding, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(now)
	list := r.pruneLocked(username, now)

	stale := func(b Binding) bool { return b.CallID == callID && cseq <= b.CSeq }
	if wildcard {
		if slices.ContainsFunc(list, stale) {
			return nil, false
		}
		delete(r.bindings, username)
		return nil, true
	}
	for _, ch := range changes {
		if i := indexContact(list, ch.uri); i >= 0 && stale(list[i]) {
			return nil, false
		}
	}

	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	for _, ch := range changes {
		i := indexContact(list, ch.uri)
		if ch.expires == 0 {
			if i >= 0 {
				list = slices.Delete(list, i, i+1)
			}
			continue
		}
		b := Binding{
			Username:      username,
			Contact:       ch.uri,
			ContactParams: ch.params,
			Transport:     req.Transport(),
			Source:        req.Source(),
			Expires:       now.Add(ch.expires),
			CallID:        callID,
			CSeq:          cseq,
			UserAgent:     ua,
		}
		if i >= 0 {
			list[i] = b
		} else {
			list = append(list, b)
		}
	}
	slices.SortStableFunc(list, func(a, b Binding) int { return a.Expires.Compare(b.Expires) })
	if extra := len(list) - r.opts.MaxBindingsPerUser; extra > 0 {
		list = slices.Delete(list, 0, extra)
	}
	if len(list) == 0 {
		delete(r.bindings, username)
		return nil, true
	}
	r.bindings[username] = list
	out := make([]Binding, len(list))
	for i, b := range list {
		out[i] = b.clone()
	}
	return out, true
}

// indexContact finds the binding whose Contact equals u (RFC 3261 §19.1.4,
// approximated by scheme, user, host, port and transport).
func indexContact(list []Binding, u sip.Uri) int {
	k := contactKey(u)
	return slices.IndexFunc(list, func(b Binding) bool { return contactKey(b.Contact) == k })
}

func contactKey(u sip.Uri) string {
	tp, _ := u.UriParams.Get("transport")
	return schemeOf(u) + ":" + u.User + "@" + strings.ToLower(u.Host) + ":" + strconv.Itoa(portOf(u)) + ";" + strings.ToLower(tp)
}

// remaining is the whole seconds left until t, rounded up.
func remaining(t, now time.Time) int {
	return int(math.Ceil(t.Sub(now).Seconds()))
}

func (r *Registrar) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		r.log.Warn("SIP response failed", "status", code, "method", req.Method, "error", err)
	}
}

func (r *Registrar) recoverPanic(req *sip.Request, tx sip.ServerTransaction) {
	if p := recover(); p != nil {
		r.log.Error("panic in SIP REGISTER handler", "panic", p, "stack", string(debug.Stack()))
		r.respondAfterPanic(req, tx)
	}
}

// respondAfterPanic tries to send a 500, swallowing any further panic.
func (r *Registrar) respondAfterPanic(req *sip.Request, tx sip.ServerTransaction) {
	defer func() { _ = recover() }()
	r.respond(req, tx, sip.StatusInternalServerError, "Server Internal Error")
}
