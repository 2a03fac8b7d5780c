package media

import (
	"fmt"

	"github.com/pion/sdp/v3"
)

// offerFormats are the codecs we offer, in order of preference.
// G.722 comes last: the mix is narrowband, so it only serves peers that
// offer nothing else.
var offerFormats = []format{{pt: 0, enc: encPCMU}, {pt: 8, enc: encPCMA}, {pt: 9, enc: encG722}}

func (l *Leg) localDesc() localDesc {
	return localDesc{
		sessID:  l.sessID,
		sessVer: l.sessVer,
		addr:    l.e.s.advertise,
		port:    l.port,
		eventPT: -1,
	}
}

// Offer returns an SDP offer (RFC 3264 §5) for the leg: one sendrecv audio
// stream offering PCMU, PCMA, G722 and telephone-event/8000 (payload type 101,
// events 0-16) with ptime 20. Complete the exchange with SetRemoteAnswer.
func (l *Leg) Offer() ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return nil, ErrClosed
	}
	d := l.localDesc()
	d.sessVer++
	d.formats = offerFormats
	d.eventPT = offerEventPT
	d.dir = DirectionSendRecv
	b, err := d.marshal([]*sdp.MediaDescription{d.audioMedia()})
	if err != nil {
		return nil, fmt.Errorf("media: building offer: %w", err)
	}
	l.sessVer = d.sessVer
	l.offerPending = true
	return b, nil
}

// Answer applies a remote offer and returns our answer (RFC 3264 §6). It
// uses the first usable audio stream: the first codec of the offer that we
// support (PCMU, PCMA or G722) and telephone-event with the offer's payload type
// if offered; every other stream is rejected with port 0. The direction
// mirrors the offer (sendonly is answered recvonly, inactive inactive).
// Errors wrap ErrBadSDP or ErrNoCommonCodec. Answer may be called again
// for a re-INVITE.
func (l *Leg) Answer(remoteOffer []byte) ([]byte, error) {
	sd, err := parseSDP(remoteOffer)
	if err != nil {
		return nil, err
	}
	rs, err := findAudio(sd, l.e.s.bind.Is4())
	if err != nil {
		return nil, err
	}
	chosen := rs.formats[0]
	neg := &negotiated{
		tx:        chosen,
		txEventPT: rs.eventPT,
		remote:    rs.addr,
		remoteDir: rs.dir,
		localDir:  rs.dir.reverse(),
	}
	neg.rx[chosen.pt] = kindOf(chosen.enc)
	if rs.eventPT >= 0 {
		neg.rx[rs.eventPT] = kindEvent
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return nil, ErrClosed
	}
	d := l.localDesc()
	d.sessVer++
	d.formats = []format{chosen}
	d.eventPT = rs.eventPT
	d.dir = neg.localDir
	media := make([]*sdp.MediaDescription, len(sd.MediaDescriptions))
	for i, md := range sd.MediaDescriptions {
		if i == rs.index {
			media[i] = d.audioMedia()
		} else {
			media[i] = rejectedMedia(md)
		}
	}
	b, err := d.marshal(media)
	if err != nil {
		return nil, fmt.Errorf("media: building answer: %w", err)
	}
	l.sessVer = d.sessVer
	l.offerPending = false
	l.applyLocked(neg)
	return b, nil
}

// SetRemoteAnswer applies the peer's answer to our last Offer. Errors wrap
// ErrNoOffer, ErrBadSDP, ErrRejected (the peer set the audio port to 0) or
// ErrNoCommonCodec.
func (l *Leg) SetRemoteAnswer(remoteAnswer []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if !l.offerPending {
		return ErrNoOffer
	}
	sd, err := parseSDP(remoteAnswer)
	if err != nil {
		return err
	}
	// The answer has one m-line per offered one, in order (RFC 3264 §6);
	// we offered a single audio stream.
	if len(sd.MediaDescriptions) == 0 || sd.MediaDescriptions[0].MediaName.Media != "audio" {
		return badSDP("answer has no audio stream in the first m-line")
	}
	md := sd.MediaDescriptions[0]
	if md.MediaName.Port.Value == 0 {
		return ErrRejected
	}
	if !usableAudio(md) {
		return badSDP("answer uses transport %q", md.MediaName.Protos)
	}
	rs, err := parseStream(sd, 0, l.e.s.bind.Is4())
	if err != nil {
		return err
	}
	// The answer may only use formats we offered (RFC 3264 §6.1).
	var offered []format
	for _, f := range rs.formats {
		if f.enc != encNone {
			offered = append(offered, f)
		}
	}
	if len(offered) == 0 {
		return fmt.Errorf("%w: answer has none of PCMU, PCMA and G722", ErrNoCommonCodec)
	}
	neg := &negotiated{
		tx:        offered[0],
		txEventPT: rs.eventPT,
		remote:    rs.addr,
		remoteDir: rs.dir,
		localDir:  rs.dir.reverse(),
	}
	// We receive what our offer declared for the formats the answer
	// kept, and tolerate peers sending with the answer's numbers.
	for _, f := range offered {
		neg.rx[f.enc.staticPT()] = kindOf(f.enc)
		neg.rx[f.pt] = kindOf(f.enc)
	}
	if rs.eventPT >= 0 {
		neg.rx[offerEventPT] = kindEvent
		neg.rx[rs.eventPT] = kindEvent
	}
	l.offerPending = false
	l.applyLocked(neg)
	return nil
}

// applyLocked installs a negotiation result. The destination goes back to
// the SDP address (and latching starts over) only if that address changed,
// so a re-INVITE does not undo NAT latching. l.mu must be held.
func (l *Leg) applyLocked(neg *negotiated) {
	old := l.neg.Swap(neg)
	if old == nil || old.remote != neg.remote {
		l.txAddr = neg.remote
		l.latched.Store(false)
	}
	l.lastRx.Store(l.e.now())
	l.inactiveFired.Store(false)
	l.log.Debug("rtp negotiated", "codec", neg.tx.enc.String(), "pt", neg.tx.pt, "event_pt", neg.txEventPT,
		"remote", neg.remote, "remote_dir", neg.remoteDir, "local_dir", neg.localDir)
}
