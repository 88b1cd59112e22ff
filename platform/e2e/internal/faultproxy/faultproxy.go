// Package faultproxy is a loopback TCP proxy for fault-injection tests: it
// forwards connections to one of its backends and, at random with the
// probabilities it is given, delays their bytes, cuts them (a clean close
// after some bytes), resets them (RST after some bytes) or garbles the start
// of one direction (the request or status line, so that what arrives is
// not HTTP; bytes further in are never changed, as TLS would catch that).
// It can also hold every answer (for a test to kill the backend while an
// answer is on its way) and counts what it did.
package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are per-connection probabilities (0..1) and bounds. At most one
// of Cut, Reset and Garble happens to a connection; Delay adds to any.
type Faults struct {
	// Delay is the probability that a connection's chunks are each held
	// for a random time up to MaxDelay before being forwarded.
	Delay    float64
	MaxDelay time.Duration
	// Cut closes both sides after a random number of bytes (below Within)
	// in one direction.
	Cut float64
	// Reset resets both sides (RST) after a random number of bytes (below
	// Within) in one direction.
	Reset float64
	// Garble replaces the first 4 bytes of one direction with junk.
	Garble float64
	// Within bounds the byte offset of a cut or reset (default 2048).
	Within int
}

// Counts is what the proxy did.
type Counts struct {
	Conns, DialFailed, Delayed, Cut, Reset, Garbled, Held int64
}

func (c Counts) String() string {
	return fmt.Sprintf("connections %d, delayed %d, cut %d, reset %d, garbled %d, held %d, backend down %d",
		c.Conns, c.Delayed, c.Cut, c.Reset, c.Garbled, c.Held, c.DialFailed)
}

// Proxy forwards loopback connections with faults.
type Proxy struct {
	ln net.Listener

	mu       sync.Mutex
	backends []string
	next     int
	faults   Faults
	rnd      *rand.Rand
	hold     bool
	held     chan struct{} // closed when hold ends
	conns    map[net.Conn]struct{}

	conns_, dialFailed, delayed, cut, reset, garbled, heldN atomic.Int64
	wg                                                      sync.WaitGroup
}

// New listens on a free loopback port and forwards to backends (host:port),
// round-robin, trying the next one when a dial fails. seed makes the
// faults repeatable for a given order of connections.
func New(seed uint64, backends ...string) (*Proxy, error) {
	if len(backends) == 0 {
		return nil, errors.New("faultproxy: no backend")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{ln: ln, backends: backends, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		held: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	close(p.held)
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is http://Addr.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// SetFaults replaces the fault probabilities (zero Faults: a clean proxy).
func (p *Proxy) SetFaults(f Faults) {
	if f.Within <= 0 {
		f.Within = 2048
	}
	p.mu.Lock()
	p.faults = f
	p.mu.Unlock()
}

// SetBackends replaces the backends.
func (p *Proxy) SetBackends(b ...string) {
	p.mu.Lock()
	p.backends = b
	p.mu.Unlock()
}

// Hold, while on, keeps every byte coming back from a backend in the proxy
// (counted in Held) until Hold(false); the client waits meanwhile.
func (p *Proxy) Hold(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on == p.hold {
		return
	}
	p.hold = on
	if on {
		p.held = make(chan struct{})
	} else {
		close(p.held)
	}
}

// DropAll closes every open connection (as a restarting load balancer
// would); new ones are accepted as usual.
func (p *Proxy) DropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Counts returns what the proxy did so far.
func (p *Proxy) Counts() Counts {
	return Counts{Conns: p.conns_.Load(), DialFailed: p.dialFailed.Load(), Delayed: p.delayed.Load(),
		Cut: p.cut.Load(), Reset: p.reset.Load(), Garbled: p.garbled.Load(), Held: p.heldN.Load()}
}

// Close stops accepting, closes every connection and waits for them.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.Hold(false)
	p.DropAll()
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns_.Add(1)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c)
		}()
	}
}

// plan is what happens to one connection.
type plan struct {
	delay  time.Duration // upper bound per chunk; 0: none
	kind   int           // 0 none, 1 cut, 2 reset, 3 garble
	upward bool          // the fault is in the client->backend direction
	at     int           // byte offset of a cut or reset
	rnd    *rand.Rand
}

const (
	faultNone = iota
	faultCut
	faultReset
	faultGarble
)

func (p *Proxy) plan() (plan, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.faults
	pl := plan{rnd: rand.New(rand.NewPCG(p.rnd.Uint64(), p.rnd.Uint64()))}
	if f.Delay > 0 && p.rnd.Float64() < f.Delay {
		pl.delay = f.MaxDelay
	}
	x := p.rnd.Float64()
	switch {
	case x < f.Cut:
		pl.kind = faultCut
	case x < f.Cut+f.Reset:
		pl.kind = faultReset
	case x < f.Cut+f.Reset+f.Garble:
		pl.kind = faultGarble
	}
	pl.upward = p.rnd.IntN(2) == 0
	if f.Within > 0 {
		pl.at = p.rnd.IntN(f.Within)
	}
	order := make([]string, 0, len(p.backends))
	for i := range p.backends {
		order = append(order, p.backends[(p.next+i)%len(p.backends)])
	}
	p.next++
	return pl, order
}

func (p *Proxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *Proxy) handle(client net.Conn) {
	pl, order := p.plan()
	var backend net.Conn
	for _, addr := range order {
		b, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			backend = b
			break
		}
		p.dialFailed.Add(1)
	}
	if backend == nil {
		client.Close()
		return
	}
	p.track(client, true)
	p.track(backend, true)
	defer p.track(client, false)
	defer p.track(backend, false)
	if pl.delay > 0 {
		p.delayed.Add(1)
	}
	var once sync.Once
	end := func(rst bool) {
		once.Do(func() {
			if rst {
				for _, c := range []net.Conn{client, backend} {
					if tc, ok := c.(*net.TCPConn); ok {
						tc.SetLinger(0)
					}
				}
			}
			client.Close()
			backend.Close()
		})
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn, up bool) {
		defer func() { done <- struct{}{} }()
		fault := pl.kind != faultNone && pl.upward == up
		n := 0
		buf := make([]byte, 32<<10)
		for {
			k, err := src.Read(buf)
			if k > 0 {
				chunk := buf[:k]
				if pl.delay > 0 {
					time.Sleep(time.Duration(pl.rnd.Int64N(int64(pl.delay) + 1)))
				}
				if !up {
					p.mu.Lock()
					held, ch := p.hold, p.held
					p.mu.Unlock()
					if held {
						p.heldN.Add(1)
						<-ch
					}
				}
				if fault {
					switch pl.kind {
					case faultGarble:
						if n < 4 {
							for i := 0; i < len(chunk) && n+i < 4; i++ {
								chunk[i] = 0xff ^ byte(pl.rnd.IntN(32))
							}
							p.garbled.Add(1)
						}
					case faultCut, faultReset:
						if n+k > pl.at {
							if w := pl.at - n; w > 0 {
								dst.Write(chunk[:w])
							}
							if pl.kind == faultCut {
								p.cut.Add(1)
							} else {
								p.reset.Add(1)
							}
							end(pl.kind == faultReset)
							return
						}
					}
				}
				if _, werr := dst.Write(chunk); werr != nil {
					end(false)
					return
				}
				n += k
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					if tc, ok := dst.(*net.TCPConn); ok {
						tc.CloseWrite()
						return
					}
				}
				end(false)
				return
			}
		}
	}
	go pipe(backend, client, true)
	go pipe(client, backend, false)
	<-done
	<-done
	end(false)
}
