package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole server configuration.
type Config struct {
	// DataDir holds the SQLite database, generated certificates and keys.
	DataDir string `yaml:"dataDir"`
	// ResourceID names this deployment the way an ACS resource id does. It is the
	// <resource> part of communication user ids (8:acs:<resource>_<id>) and the
	// audience of the JWTs that sign callbacks.
	ResourceID string `yaml:"resourceId"`
	Log        Log    `yaml:"log"`
	HTTP       HTTP   `yaml:"http"`
	Auth       Auth   `yaml:"auth"`
	SIP        SIP    `yaml:"sip"`
	Media      Media  `yaml:"media"`
	Events     Events `yaml:"events"`
	Calls      Calls  `yaml:"calls"`
	Speech     Speech `yaml:"speech"`
	// Numbers are the phone numbers (E.164) this server owns. Calls to them are
	// incoming calls; they may be used as caller ID on outbound calls.
	Numbers []string `yaml:"numbers"`
	Trunks  []Trunk  `yaml:"trunks"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// HTTP configures the REST API listener.
type HTTP struct {
	Listen string `yaml:"listen"`
	// PublicURL is the base URL apps use to reach the API; it is used for
	// nextLink paging links and subscription validation URLs. Empty means
	// derived from the listen address and TLS mode.
	PublicURL string `yaml:"publicURL"`
	TLS       TLS    `yaml:"tls"`
	// DebugListen serves Go's profiles (/debug/pprof/) on this address, for
	// performance work; empty disables it. It is unauthenticated: keep it on
	// a loopback address.
	DebugListen string `yaml:"debugListen"`
}

// TLS configures HTTPS for the REST API.
type TLS struct {
	// Mode is "auto" (generate a local CA and server certificate in the data
	// directory), "files" (use CertFile/KeyFile) or "off" (plain HTTP, for local
	// development only).
	Mode     string `yaml:"mode"`
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
	// Hostnames are extra DNS names and IP addresses put in the generated
	// certificate (localhost, 127.0.0.1 and ::1 are always included).
	Hostnames []string `yaml:"hostnames"`
}

// Auth configures how API requests are authenticated.
type Auth struct {
	// AccessKeys are base64 keys, as in an ACS connection string's accesskey.
	// Several may be listed to rotate keys. Prefer SWITCHBOARD_AUTH_ACCESSKEYS.
	AccessKeys []string `yaml:"accessKeys"`
	// MaxClockSkew bounds how far a request's x-ms-date may be from now.
	MaxClockSkew time.Duration `yaml:"maxClockSkew"`
}

// SIP configures signalling.
type SIP struct {
	ListenUDP   string `yaml:"listenUDP"` // empty disables
	ListenTCP   string `yaml:"listenTCP"` // empty disables
	ListenTLS   string `yaml:"listenTLS"` // empty disables; needs TLSCertFile/TLSKeyFile
	TLSCertFile string `yaml:"tlsCertFile"`
	TLSKeyFile  string `yaml:"tlsKeyFile"`
	// AdvertiseHost is the host name or IP put in Via and Contact headers.
	AdvertiseHost string `yaml:"advertiseHost"`
	// Realm is the digest authentication realm for REGISTER and INVITE.
	Realm string `yaml:"realm"`
	// UserAgent is sent in User-Agent and Server headers.
	UserAgent string `yaml:"userAgent"`
}

// Media configures RTP.
type Media struct {
	BindIP      string `yaml:"bindIP"`
	AdvertiseIP string `yaml:"advertiseIP"`
	PortMin     int    `yaml:"portMin"`
	PortMax     int    `yaml:"portMax"`
	// InactivityTimeout ends a call whose peer sent no RTP for this long (0 disables).
	InactivityTimeout time.Duration `yaml:"inactivityTimeout"`
	// Workers is how many goroutines share the media clock's work each
	// 20 ms (reading RTP, mixing, sending); 0 means one per CPU core.
	Workers int `yaml:"workers"`
	// PromptMaxFileBytes bounds one audio file fetched for play.
	PromptMaxFileBytes int `yaml:"promptMaxFileBytes"`
	// PromptCacheBytes bounds the decoded prompts kept in memory.
	PromptCacheBytes int `yaml:"promptCacheBytes"`
}

// Speech configures speech synthesis (and, later, recognition).
type Speech struct {
	// TTSEngine is "espeak" (espeak-ng run as a separate process, offline),
	// "http" (an OpenAI-compatible /v1/audio/speech endpoint) or "none".
	TTSEngine string `yaml:"ttsEngine"`
	// EspeakPath is the espeak-ng binary; empty means espeak-ng on PATH.
	EspeakPath string `yaml:"espeakPath"`
	// TTSURL is the HTTP engine's base URL (…/v1/audio/speech is appended).
	TTSURL string `yaml:"ttsURL"`
	// TTSAPIKey is sent as a bearer token to the HTTP engine.
	TTSAPIKey string `yaml:"ttsAPIKey"`
	// TTSModel and TTSVoice are the HTTP engine's model and default voice.
	TTSModel string `yaml:"ttsModel"`
	TTSVoice string `yaml:"ttsVoice"`
	// TTSCacheBytes bounds the synthesized prompts kept in memory.
	TTSCacheBytes int `yaml:"ttsCacheBytes"`
	// STTEngine recognizes speech for recognize: "sphinx" (PocketSphinx,
	// offline; the binary must be built with -tags pocketsphinx), "http"
	// (an OpenAI-compatible /v1/audio/transcriptions endpoint) or "none".
	STTEngine string `yaml:"sttEngine"`
	// STTURL, STTAPIKey and STTModel configure the HTTP engine.
	STTURL    string `yaml:"sttURL"`
	STTAPIKey string `yaml:"sttAPIKey"`
	STTModel  string `yaml:"sttModel"`
	// STTHTTPLanguages are languages (e.g. de-DE, or de for every variant)
	// recognized by the HTTP engine whatever sttEngine says.
	STTHTTPLanguages []string `yaml:"sttHTTPLanguages"`
	// STTMaxConcurrent bounds recognitions running at once; as many more
	// may wait briefly, the rest fail at once (RecognizeFailed 8564).
	STTMaxConcurrent int `yaml:"sttMaxConcurrent"`
	// SphinxDecoys is how many frequent English words a PocketSphinx
	// choices grammar offers besides the choices' phrases, so that words
	// off the menu are refused (RecognizeFailed 8547) rather than matched
	// to the nearest choice; 0 offers none (more choices recognized, every
	// utterance matched to one). See docs/SPEECH.md.
	SphinxDecoys int `yaml:"sphinxDecoys"`
	// SphinxWarm is how many PocketSphinx decoders to load at startup (in
	// the background), so that the first recognitions do not wait about
	// 150 ms for a model load; each costs about 90 MiB. 0 loads lazily.
	SphinxWarm int `yaml:"sphinxWarm"`
}

// Events configures webhooks.
type Events struct {
	// Issuer is the iss claim of callback JWTs. Empty means the API's public URL.
	Issuer string `yaml:"issuer"`
	// ResponseTimeout is how long a webhook may take to answer; a request that
	// was delivered but not answered in time is not re-sent.
	ResponseTimeout time.Duration `yaml:"responseTimeout"`
	// RetryMaxAge bounds how long an undeliverable event is retried.
	RetryMaxAge time.Duration `yaml:"retryMaxAge"`
	// Subscriptions are Event Grid-style webhooks for IncomingCall and call
	// lifecycle events. More can be created through the admin API.
	Subscriptions []Subscription `yaml:"subscriptions"`
}

// Subscription is one Event Grid-style webhook.
type Subscription struct {
	Name     string `yaml:"name"`
	Endpoint string `yaml:"endpoint"`
	// EventTypes filters by type (e.g. Microsoft.Communication.IncomingCall); empty means all.
	EventTypes []string `yaml:"eventTypes"`
	// To filters by the callee's rawId (e.g. "4:+14255550100"); empty means any.
	To []string `yaml:"to"`
}

// Calls configures call handling.
type Calls struct {
	// RingTimeout is how long an incoming call rings waiting for the app to
	// answer, reject or redirect before the caller gets 480.
	RingTimeout time.Duration `yaml:"ringTimeout"`
	// DialTimeout is how long an outbound call may ring before it is canceled.
	DialTimeout time.Duration `yaml:"dialTimeout"`
	// MaxConcurrent limits concurrent calls (0 = unlimited); excess get SIP 503 / REST 503.
	MaxConcurrent int `yaml:"maxConcurrent"`
	// MaxSetupRate limits new calls per second, with bursts of up to one
	// second's worth (0 = unlimited); excess get SIP 503 / REST 429.
	MaxSetupRate float64 `yaml:"maxSetupRate"`
	// ShutdownGrace is how long active calls may drain on the first SIGTERM.
	ShutdownGrace time.Duration `yaml:"shutdownGrace"`
}

// Trunk is a SIP trunk to a carrier or PBX.
type Trunk struct {
	Name      string `yaml:"name"`
	Address   string `yaml:"address"`   // host:port of the trunk's SIP server
	Transport string `yaml:"transport"` // udp, tcp or tls
	Username  string `yaml:"username"`  // optional digest credentials for outbound calls
	Password  string `yaml:"password"`
	// AllowedSources are IPs or CIDRs allowed to send calls from this trunk.
	// Empty means the resolved Address only.
	AllowedSources []string `yaml:"allowedSources"`
	// Numbers are owned numbers this trunk delivers calls for (patterns may end
	// in '*'). Empty means every owned number.
	Numbers []string `yaml:"numbers"`
	// Routes are destination prefixes (e.g. "+1") of outbound calls sent through
	// this trunk; empty means every number. The first matching trunk wins.
	Routes []string `yaml:"routes"`
}

// Default returns the configuration used when a setting is not given.
func Default() Config {
	return Config{
		DataDir:    "./data",
		ResourceID: "switchboard",
		Log:        Log{Level: "info", Format: "text"},
		HTTP: HTTP{
			Listen: "127.0.0.1:8443",
			TLS:    TLS{Mode: "auto"},
		},
		Auth: Auth{MaxClockSkew: 15 * time.Minute},
		SIP: SIP{
			ListenUDP:     "0.0.0.0:5060",
			ListenTCP:     "0.0.0.0:5060",
			AdvertiseHost: "127.0.0.1",
			Realm:         "switchboard",
			UserAgent:     "Switchboard",
		},
		Media: Media{
			BindIP:             "0.0.0.0",
			AdvertiseIP:        "127.0.0.1",
			PortMin:            20000,
			PortMax:            29999,
			InactivityTimeout:  30 * time.Second,
			PromptMaxFileBytes: 32 << 20,
			PromptCacheBytes:   256 << 20,
		},
		Speech: Speech{TTSEngine: "espeak", TTSModel: "tts-1", TTSVoice: "alloy", TTSCacheBytes: 64 << 20,
			STTEngine: "sphinx", STTModel: "whisper-1", STTHTTPLanguages: []string{}, STTMaxConcurrent: 4, SphinxDecoys: 1000},
		Events: Events{
			ResponseTimeout: 5 * time.Second,
			RetryMaxAge:     24 * time.Hour,
		},
		Calls: Calls{
			RingTimeout:   60 * time.Second,
			DialTimeout:   60 * time.Second,
			ShutdownGrace: 30 * time.Second,
		},
	}
}

// Load reads a YAML file over the defaults (unknown keys are errors), applies
// environment overrides and validates the result. An empty path means
// defaults plus environment.
func Load(path string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, err
		}
		if err := Decode(b, &cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := ApplyEnv(&cfg, os.Environ()); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// Decode decodes YAML into cfg, rejecting unknown keys.
func Decode(b []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file leaves the defaults in place.
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Validate returns every problem in the configuration, joined.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.DataDir == "" {
		add("dataDir: must be set")
	}
	if c.ResourceID == "" || strings.ContainsAny(c.ResourceID, "_: ") {
		add("resourceId: must be set and contain no '_', ':' or spaces")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level: %q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format: %q is not text or json", c.Log.Format)
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		add("http.listen: %v", err)
	}
	if c.HTTP.PublicURL != "" {
		if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("http.publicURL: %q is not an http(s) URL", c.HTTP.PublicURL)
		}
	}
	switch c.HTTP.TLS.Mode {
	case "auto", "off":
	case "files":
		if c.HTTP.TLS.CertFile == "" || c.HTTP.TLS.KeyFile == "" {
			add("http.tls: mode files needs certFile and keyFile")
		}
	default:
		add("http.tls.mode: %q is not auto, files or off", c.HTTP.TLS.Mode)
	}
	if len(c.Auth.AccessKeys) == 0 {
		add("auth.accessKeys: at least one key is needed (set SWITCHBOARD_AUTH_ACCESSKEYS; generate one with `switchboard keygen`)")
	}
	for i, k := range c.Auth.AccessKeys {
		if err := checkBase64(k); err != nil {
			add("auth.accessKeys[%d]: %v", i, err)
		}
	}
	if c.Auth.MaxClockSkew <= 0 {
		add("auth.maxClockSkew: must be positive")
	}
	for name, addr := range map[string]string{"sip.listenUDP": c.SIP.ListenUDP, "sip.listenTCP": c.SIP.ListenTCP, "sip.listenTLS": c.SIP.ListenTLS} {
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			add("%s: %v", name, err)
		}
	}
	if c.SIP.ListenUDP == "" && c.SIP.ListenTCP == "" && c.SIP.ListenTLS == "" {
		add("sip: at least one of listenUDP, listenTCP, listenTLS is needed")
	}
	if c.SIP.ListenTLS != "" && (c.SIP.TLSCertFile == "" || c.SIP.TLSKeyFile == "") {
		add("sip.listenTLS: needs tlsCertFile and tlsKeyFile")
	}
	if c.SIP.AdvertiseHost == "" {
		add("sip.advertiseHost: must be set")
	}
	if net.ParseIP(c.Media.BindIP) == nil {
		add("media.bindIP: %q is not an IP address", c.Media.BindIP)
	}
	if ip := net.ParseIP(c.Media.AdvertiseIP); ip == nil || ip.IsUnspecified() {
		add("media.advertiseIP: %q is not a usable IP address", c.Media.AdvertiseIP)
	}
	if c.Media.PortMin < 1024 || c.Media.PortMax > 65535 || c.Media.PortMin >= c.Media.PortMax {
		add("media: port range %d-%d is invalid (1024 <= portMin < portMax <= 65535)", c.Media.PortMin, c.Media.PortMax)
	}
	if c.Media.InactivityTimeout < 0 {
		add("media.inactivityTimeout: must not be negative")
	}
	if c.Media.Workers < 0 || c.Media.Workers > 256 {
		add("media.workers: %d is not within 0..256 (0: one per CPU core)", c.Media.Workers)
	}
	if c.Media.PromptMaxFileBytes <= 0 || c.Media.PromptCacheBytes <= 0 {
		add("media: promptMaxFileBytes and promptCacheBytes must be positive")
	}
	switch c.Speech.TTSEngine {
	case "espeak", "none":
	case "http":
		if u, err := url.Parse(c.Speech.TTSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("speech.ttsURL: %q is not an http(s) URL (needed by ttsEngine http)", c.Speech.TTSURL)
		}
	default:
		add("speech.ttsEngine: %q is not espeak, http or none", c.Speech.TTSEngine)
	}
	sttURLNeeded := len(c.Speech.STTHTTPLanguages) > 0
	switch c.Speech.STTEngine {
	case "sphinx", "none":
	case "http":
		sttURLNeeded = true
	default:
		add("speech.sttEngine: %q is not sphinx, http or none", c.Speech.STTEngine)
	}
	if u, err := url.Parse(c.Speech.STTURL); sttURLNeeded && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		add("speech.sttURL: %q is not an http(s) URL (needed by the http engine)", c.Speech.STTURL)
	}
	if c.Speech.STTMaxConcurrent < 1 {
		add("speech.sttMaxConcurrent: must be at least 1")
	}
	if c.Speech.SphinxDecoys < 0 || c.Speech.SphinxDecoys > 20000 {
		add("speech.sphinxDecoys: %d is not between 0 and 20000", c.Speech.SphinxDecoys)
	}
	if c.Speech.SphinxWarm < 0 || c.Speech.SphinxWarm > c.Speech.STTMaxConcurrent {
		add("speech.sphinxWarm: %d is not between 0 and speech.sttMaxConcurrent (%d)", c.Speech.SphinxWarm, c.Speech.STTMaxConcurrent)
	}
	if c.Events.ResponseTimeout <= 0 {
		add("events.responseTimeout: must be positive")
	}
	names := map[string]bool{}
	for i, s := range c.Events.Subscriptions {
		if s.Name == "" || names[s.Name] {
			add("events.subscriptions[%d]: name must be set and unique", i)
		}
		names[s.Name] = true
		if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("events.subscriptions[%d].endpoint: %q is not an http(s) URL", i, s.Endpoint)
		}
	}
	if c.Calls.RingTimeout <= 0 || c.Calls.DialTimeout <= 0 {
		add("calls: ringTimeout and dialTimeout must be positive")
	}
	if c.Calls.MaxConcurrent < 0 {
		add("calls.maxConcurrent: must not be negative")
	}
	if c.Calls.MaxSetupRate < 0 {
		add("calls.maxSetupRate: must not be negative")
	}
	for i, n := range c.Numbers {
		if !IsE164(n) {
			add("numbers[%d]: %q is not an E.164 number (+ and 2-15 digits)", i, n)
		}
	}
	tnames := map[string]bool{}
	for i, t := range c.Trunks {
		p := fmt.Sprintf("trunks[%d]", i)
		if t.Name == "" || tnames[t.Name] {
			add("%s.name: must be set and unique", p)
		}
		tnames[t.Name] = true
		if _, _, err := net.SplitHostPort(t.Address); err != nil {
			add("%s.address: %v", p, err)
		}
		switch t.Transport {
		case "udp", "tcp", "tls":
		default:
			add("%s.transport: %q is not udp, tcp or tls", p, t.Transport)
		}
		if (t.Username == "") != (t.Password == "") {
			add("%s: username and password go together", p)
		}
		for j, s := range t.AllowedSources {
			if net.ParseIP(s) == nil {
				if _, _, err := net.ParseCIDR(s); err != nil {
					add("%s.allowedSources[%d]: %q is not an IP or CIDR", p, j, s)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// IsE164 reports whether s looks like an E.164 number: '+' then 2 to 15 digits.
func IsE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
