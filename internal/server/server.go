package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/switchboard-oss/switchboard/internal/api"
	"github.com/switchboard-oss/switchboard/internal/auth"
	"github.com/switchboard-oss/switchboard/internal/call"
	"github.com/switchboard-oss/switchboard/internal/certs"
	"github.com/switchboard-oss/switchboard/internal/config"
	"github.com/switchboard-oss/switchboard/internal/events"
	"github.com/switchboard-oss/switchboard/internal/media"
	"github.com/switchboard-oss/switchboard/internal/registrar"
	"github.com/switchboard-oss/switchboard/internal/sip"
	"github.com/switchboard-oss/switchboard/internal/store"
)

// Server is a wired, bound Switchboard.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	store   *store.Store
	outbox  *events.Outbox
	records *store.RecordWriter
	subs    *events.Subscriptions
	media   *media.Engine
	calls   *call.Manager
	sip     *sip.Server
	http    *http.Server
	httpL   net.Listener
	// CAFile is the generated local CA (tls mode auto), for apps to trust.
	CAFile    string
	publicURL string
}

// New builds every component and binds every socket, so that a bad setting
// or a port clash fails here, before anything is served.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	s := &Server{cfg: cfg, log: log}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	var err error
	if s.store, err = store.Open(ctx, cfg.DataDir, cfg.ResourceID); err != nil {
		return nil, err
	}
	if err := events.Migrate(ctx, s.store.DB()); err != nil {
		return nil, err
	}

	// HTTP listener first: its address decides the public URL.
	if s.httpL, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
		return nil, fmt.Errorf("http listen %s: %w", cfg.HTTP.Listen, err)
	}
	var tlsCfg *tls.Config
	scheme := "https"
	switch cfg.HTTP.TLS.Mode {
	case "off":
		scheme = "http"
	case "files":
		cert, err := tls.LoadX509KeyPair(cfg.HTTP.TLS.CertFile, cfg.HTTP.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("http tls: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case "auto":
		var dns []string
		var ips []net.IP
		for _, h := range append(cfg.HTTP.TLS.Hostnames, cfg.SIP.AdvertiseHost) {
			if ip := net.ParseIP(h); ip != nil {
				ips = append(ips, ip)
			} else if h != "" {
				dns = append(dns, h)
			}
		}
		res, err := certs.EnsureLocal(filepath.Join(cfg.DataDir, "tls"), dns, ips, time.Now)
		if err != nil {
			return nil, fmt.Errorf("local certificate: %w", err)
		}
		cert, err := tls.LoadX509KeyPair(res.CertFile, res.KeyFile)
		if err != nil {
			return nil, err
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.CAFile = res.CAFile
		if res.CreatedCA {
			log.Info("created a local certificate authority; apps must trust it (Node: NODE_EXTRA_CA_CERTS)", "ca", res.CAFile)
		}
	}
	s.publicURL = cfg.HTTP.PublicURL
	if s.publicURL == "" {
		_, port, _ := net.SplitHostPort(s.httpL.Addr().String())
		s.publicURL = scheme + "://" + net.JoinHostPort(cfg.SIP.AdvertiseHost, port)
	}

	issuer := cfg.Events.Issuer
	if issuer == "" {
		issuer = s.publicURL
	}
	signer, err := events.LoadOrCreateSigner(filepath.Join(cfg.DataDir, "callback-signing-key.pem"), issuer, log)
	if err != nil {
		return nil, err
	}
	// Keep as many idle connections per app as the outbox has workers (64),
	// or a busy app's connections are closed and reopened all the time.
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConns: 256, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}}
	if s.outbox, err = events.NewOutbox(s.store.DB(), signer, hc, log.With("component", "outbox"), events.OutboxOptions{
		Audience: cfg.ResourceID, ResponseTimeout: cfg.Events.ResponseTimeout, MaxAge: cfg.Events.RetryMaxAge, UserAgent: cfg.SIP.UserAgent,
	}); err != nil {
		return nil, err
	}
	if s.subs, err = events.NewSubscriptions(s.store.DB(), s.outbox, hc, log.With("component", "subscriptions"), events.SubscriptionsOptions{
		Topic: "/switchboard/" + cfg.ResourceID, BaseURL: s.publicURL,
	}); err != nil {
		return nil, err
	}
	var cfgSubs []events.Subscription
	for _, cs := range cfg.Events.Subscriptions {
		cfgSubs = append(cfgSubs, events.Subscription{Name: cs.Name, EndpointURL: cs.Endpoint, EventTypes: cs.EventTypes, To: cs.To})
	}
	if err := s.subs.SyncConfig(ctx, cfgSubs); err != nil {
		return nil, fmt.Errorf("event subscriptions: %w", err)
	}

	if s.media, err = media.NewEngine(media.Config{
		BindIP: cfg.Media.BindIP, AdvertiseIP: cfg.Media.AdvertiseIP, PortMin: cfg.Media.PortMin, PortMax: cfg.Media.PortMax,
		InactivityTimeout: cfg.Media.InactivityTimeout, Workers: cfg.Media.Workers,
	}, log.With("component", "media")); err != nil {
		return nil, err
	}
	loader, err := newPrompts(cfg, log)
	if err != nil {
		return nil, err
	}
	recognizer, err := newRecognizer(cfg.Speech, &http.Client{Timeout: 0}, log.With("component", "stt"))
	if err != nil {
		return nil, err
	}
	s.records = s.store.NewRecordWriter(log.With("component", "records"), 4096)
	s.calls = call.NewManager(call.Config{RingTimeout: cfg.Calls.RingTimeout, DialTimeout: cfg.Calls.DialTimeout, MaxConcurrent: cfg.Calls.MaxConcurrent,
		MaxSetupRate: cfg.Calls.MaxSetupRate},
		call.Deps{Log: log, Media: s.media, Events: sink{outbox: s.outbox, subs: s.subs}, Records: s.records, Prompts: loader, Speech: recognizer})
	reg := registrar.New(s.store, cfg.SIP.Realm, log.With("component", "registrar"), time.Now, registrar.Options{})
	if s.sip, err = sip.New(sip.Config{SIP: cfg.SIP, Numbers: cfg.Numbers, Trunks: cfg.Trunks, ResourceID: cfg.ResourceID},
		log.With("component", "sip"), s.calls, s.store, reg); err != nil {
		return nil, err
	}
	if err := s.sip.Listen(); err != nil {
		return nil, err
	}
	s.calls.SetSignaling(s.sip)

	verifier, err := auth.NewVerifier(cfg.Auth.AccessKeys, cfg.Auth.MaxClockSkew, time.Now)
	if err != nil {
		return nil, err
	}
	a := api.New(api.Deps{Log: log.With("component", "api"), Calls: s.calls, Verifier: verifier, Subscriptions: s.subs,
		Signer: signer, Store: s.store, PublicURL: s.publicURL, Status: s.status})
	s.http = &http.Server{Handler: a.Handler(), TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	ok = true
	return s, nil
}

// Status is what GET /admin/v1/status reports: the counts that show load
// and leaks at a glance.
type Status struct {
	ActiveCalls   int                `json:"activeCalls"`
	MediaLegs     int                `json:"mediaLegs"`
	MediaMixers   int                `json:"mediaMixers"`
	Goroutines    int                `json:"goroutines"`
	PendingEvents int                `json:"pendingEvents"`
	Outbox        events.OutboxStats `json:"outbox"`
}

func (s *Server) status() any {
	legs, mixers := s.media.Counts()
	return Status{
		ActiveCalls: s.calls.Active(), MediaLegs: legs, MediaMixers: mixers,
		Goroutines: runtime.NumGoroutine(), PendingEvents: s.outbox.Pending(), Outbox: s.outbox.Stats(),
	}
}

// PublicURL is the API's base URL.
func (s *Server) PublicURL() string { return s.publicURL }

// SIPPort returns the bound SIP port of a transport.
func (s *Server) SIPPort(transport string) int { return s.sip.Port(transport) }

// HTTPAddr is the bound API address.
func (s *Server) HTTPAddr() string { return s.httpL.Addr().String() }

// Run serves until ctx ends, then shuts down in two phases: new calls are
// refused while active ones drain (up to calls.shutdownGrace), then the
// rest are hung up and pending events get a moment to flush.
func (s *Server) Run(ctx context.Context) error {
	defer s.close()
	g, gctx := errgroup.WithContext(context.Background())
	stop, cancel := context.WithCancel(gctx)
	defer cancel()
	g.Go(func() error { return s.media.Run(stop) })
	g.Go(func() error { return s.outbox.Run(stop) })
	g.Go(func() error { return s.records.Run(stop) })
	g.Go(func() error { return s.subs.Run(stop) })
	g.Go(func() error { return s.sip.Run(stop) })
	g.Go(func() error { return s.releaseWhenIdle(stop) })
	if addr := s.cfg.HTTP.DebugListen; addr != "" {
		g.Go(func() error { return s.serveDebug(stop, addr) })
	}
	g.Go(func() error {
		var err error
		if s.http.TLSConfig != nil {
			err = s.http.ServeTLS(s.httpL, "", "")
		} else {
			err = s.http.Serve(s.httpL)
		}
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
	s.log.Info("switchboard is running", "api", s.publicURL, "sip_udp", s.sip.Port("udp"), "sip_tcp", s.sip.Port("tcp"), "sip_tls", s.sip.Port("tls"))
	select {
	case <-ctx.Done():
	case <-gctx.Done():
	}
	s.log.Info("shutting down", "active_calls", s.calls.Active())
	drain, cancelDrain := context.WithTimeout(context.Background(), s.cfg.Calls.ShutdownGrace)
	if gctx.Err() != nil {
		cancelDrain()
	}
	s.calls.Shutdown(drain)
	cancelDrain()
	hctx, cancelH := context.WithTimeout(context.Background(), 5*time.Second)
	s.http.Shutdown(hctx)
	cancelH()
	// Let the outbox send what the hang-ups produced; what it cannot send
	// stays in the database for the next start.
	flush, cancelF := context.WithTimeout(context.Background(), 3*time.Second)
	s.outbox.WaitIdle(flush)
	cancelF()
	cancel()
	return g.Wait()
}

func (s *Server) close() {
	if s.sip != nil {
		s.sip.Close()
	}
	if s.httpL != nil {
		s.httpL.Close()
	}
	if s.store != nil {
		s.store.Close()
	}
}
