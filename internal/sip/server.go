package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"
	"github.com/switchboard-oss/switchboard/internal/call"
	"github.com/switchboard-oss/switchboard/internal/config"
	"github.com/switchboard-oss/switchboard/internal/registrar"
	"github.com/switchboard-oss/switchboard/internal/store"
)

// Config is the signalling part of the configuration.
type Config struct {
	SIP        config.SIP
	Numbers    []string // owned numbers from the config file
	Trunks     []config.Trunk
	ResourceID string
}

// Server is the SIP edge.
type Server struct {
	cfg    Config
	log    *slog.Logger
	calls  *call.Manager
	store  *store.Store
	reg    *registrar.Registrar
	trunks []*trunk

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	contact gsip.ContactHeader

	udp  net.PacketConn
	tcp  net.Listener
	tlsL net.Listener

	mu       sync.Mutex
	inbound  map[string]*inLeg  // by dialog id
	outbound map[string]*outLeg // by dialog id
}

// New builds the SIP edge; Listen binds its sockets and Run serves them.
func New(cfg Config, log *slog.Logger, calls *call.Manager, st *store.Store, reg *registrar.Registrar) (*Server, error) {
	trunks, err := newTrunks(cfg.Trunks)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, calls: calls, store: st, reg: reg, trunks: trunks,
		inbound: map[string]*inLeg{}, outbound: map[string]*outLeg{}}
	return s, nil
}

// Listen binds every configured transport, so that a port clash fails at
// start. Ports given as 0 are chosen by the system (see Addr).
func (s *Server) Listen() error {
	var err error
	udpAddr, tcpAddr := s.cfg.SIP.ListenUDP, s.cfg.SIP.ListenTCP
	shared := udpAddr != "" && udpAddr == tcpAddr // same port for both, as SIP convention has it
	_, anyPort, _ := net.SplitHostPort(udpAddr)
	for attempt := 0; ; attempt++ {
		if udpAddr != "" {
			if s.udp, err = net.ListenPacket("udp", udpAddr); err != nil {
				return fmt.Errorf("sip udp %s: %w", udpAddr, err)
			}
		}
		if tcpAddr == "" {
			break
		}
		a := tcpAddr
		if shared {
			a = s.udp.LocalAddr().String()
		}
		if s.tcp, err = net.Listen("tcp", a); err == nil {
			break
		}
		if shared && anyPort == "0" && attempt < 20 {
			// The system chose a UDP port whose TCP twin is taken: again.
			s.udp.Close()
			continue
		}
		s.Close()
		return fmt.Errorf("sip tcp %s: %w", a, err)
	}
	if a := s.cfg.SIP.ListenTLS; a != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.SIP.TLSCertFile, s.cfg.SIP.TLSKeyFile)
		if err != nil {
			s.Close()
			return fmt.Errorf("sip tls certificate: %w", err)
		}
		if s.tlsL, err = tls.Listen("tcp", a, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}); err != nil {
			s.Close()
			return fmt.Errorf("sip tls %s: %w", a, err)
		}
	}
	host := s.cfg.SIP.AdvertiseHost
	port := s.Port("udp")
	if port == 0 {
		port = s.Port("tcp")
	}
	s.ua, err = sipgo.NewUA(sipgo.WithUserAgent(s.cfg.SIP.UserAgent), sipgo.WithUserAgentHostname(host))
	if err != nil {
		return err
	}
	s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(s.log.With("component", "sipgo")))
	if err != nil {
		return err
	}
	s.cli, err = sipgo.NewClient(s.ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(port), sipgo.WithClientLogger(s.log.With("component", "sipgo")))
	if err != nil {
		return err
	}
	s.contact = gsip.ContactHeader{Address: gsip.Uri{Scheme: "sip", User: "switchboard", Host: host, Port: port}}
	s.srv.OnInvite(s.onInvite)
	s.srv.OnAck(s.onAck)
	s.srv.OnBye(s.onBye)
	s.srv.OnCancel(func(req *gsip.Request, tx gsip.ServerTransaction) {
		// A CANCEL that matched a pending INVITE was answered by the
		// transaction layer; this one matched nothing.
		tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	})
	s.srv.OnOptions(func(req *gsip.Request, tx gsip.ServerTransaction) {
		res := gsip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(gsip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, NOTIFY"))
		tx.Respond(res)
	})
	s.srv.OnRegister(s.reg.HandleRegister)
	s.srv.OnRefer(func(req *gsip.Request, tx gsip.ServerTransaction) {
		// Inbound REFER would let a peer make us place calls (toll fraud).
		tx.Respond(gsip.NewResponseFromRequest(req, 403, "Forbidden", nil))
	})
	s.srv.OnInfo(s.onInfo)
	s.srv.OnNotify(s.onNotify)
	return nil
}

// Port returns the bound port of a transport ("udp", "tcp", "tls"), or 0.
func (s *Server) Port(transport string) int {
	var a net.Addr
	switch transport {
	case "udp":
		if s.udp != nil {
			a = s.udp.LocalAddr()
		}
	case "tcp":
		if s.tcp != nil {
			a = s.tcp.Addr()
		}
	case "tls":
		if s.tlsL != nil {
			a = s.tlsL.Addr()
		}
	}
	if a == nil {
		return 0
	}
	_, p, _ := net.SplitHostPort(a.String())
	n, _ := strconv.Atoi(p)
	return n
}

// Run serves the bound sockets until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 3)
	n := 0
	if s.udp != nil {
		n++
		go func() { errc <- s.srv.ServeUDP(s.udp) }()
	}
	if s.tcp != nil {
		n++
		go func() { errc <- s.srv.ServeTCP(s.tcp) }()
	}
	if s.tlsL != nil {
		n++
		go func() { errc <- s.srv.ServeTLS(s.tlsL) }()
	}
	s.log.Info("sip listening", "udp", s.Port("udp"), "tcp", s.Port("tcp"), "tls", s.Port("tls"))
	select {
	case <-ctx.Done():
		s.Close()
		return nil
	case err := <-errc:
		s.Close()
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		return fmt.Errorf("sip: %w", err)
	}
}

// Close stops serving.
func (s *Server) Close() {
	if s.ua != nil {
		s.ua.Close()
	}
	for _, c := range []interface{ Close() error }{s.udp, s.tcp, s.tlsL} {
		if c != nil && !isNil(c) {
			c.Close()
		}
	}
}

func isNil(c interface{ Close() error }) bool {
	switch v := c.(type) {
	case net.PacketConn:
		return v == nil
	case net.Listener:
		return v == nil
	}
	return false
}

func (s *Server) onAck(req *gsip.Request, tx gsip.ServerTransaction) {
	id, err := gsip.DialogIDFromRequestUAS(req)
	if err != nil {
		return
	}
	s.mu.Lock()
	l := s.inbound[id]
	s.mu.Unlock()
	if l != nil {
		l.dlg.ReadAck(req, tx)
	}
}

// dialogLeg finds the leg of an in-dialog request, whichever side we are.
func (s *Server) dialogLeg(req *gsip.Request) *leg {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, err := gsip.DialogIDFromRequestUAS(req); err == nil {
		if l := s.inbound[id]; l != nil {
			return &l.leg
		}
	}
	if id, err := gsip.DialogIDFromRequestUAC(req); err == nil {
		if l := s.outbound[id]; l != nil {
			return &l.leg
		}
	}
	return nil
}

// onInfo takes DTMF signalled in SIP INFO (application/dtmf-relay or
// application/dtmf) and answers other INFO bodies with 200 (RFC 6086 lets
// a UA ignore packages it does not use).
func (s *Server) onInfo(req *gsip.Request, tx gsip.ServerTransaction) {
	l := s.dialogLeg(req)
	if l == nil {
		tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if d, ok := parseDTMFInfo(ct, req.Body()); ok {
		l.dtmf(d)
	}
	tx.Respond(gsip.NewResponseFromRequest(req, 200, "OK", nil))
}

// onNotify takes the progress of a transfer we asked for (RFC 3515): a
// message/sipfrag body whose status line says how the referred call went.
func (s *Server) onNotify(req *gsip.Request, tx gsip.ServerTransaction) {
	l := s.dialogLeg(req)
	if l == nil {
		tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	tx.Respond(gsip.NewResponseFromRequest(req, 200, "OK", nil))
	if status, ok := parseSipfrag(req.Body()); ok {
		l.referStatus(status)
	}
}

func (s *Server) onBye(req *gsip.Request, tx gsip.ServerTransaction) {
	if id, err := gsip.DialogIDFromRequestUAS(req); err == nil {
		s.mu.Lock()
		l := s.inbound[id]
		s.mu.Unlock()
		if l != nil {
			l.readBye(req, tx)
			return
		}
	}
	if id, err := gsip.DialogIDFromRequestUAC(req); err == nil {
		s.mu.Lock()
		l := s.outbound[id]
		s.mu.Unlock()
		if l != nil {
			l.readBye(req, tx)
			return
		}
	}
	tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
}
