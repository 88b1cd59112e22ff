// Package faultproxy is a loopback TCP proxy for fault-injection tests: it
// forwards connections to one of its backends and, at random with the
// probabilities it is given for each chunk it forwards (on loopback, one
// read is about one HTTP message, so kept-alive connections meet faults
// too), delays the chunk, cuts the connection (a clean close after part of
// the chunk), resets it (RST after part of the chunk) or garbles the start
// of a message (the first 4 bytes of a request or status line, so that
// what arrives is not HTTP; bytes further in are never changed, as TLS
// would catch that).
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

// Faults are per-chunk probabilities (0..1). At most one of Cut, Reset and
// Garble happens to a chunk; Delay adds to any.
type Faults struct {
	// Delay is the probability that a chunk is held for a random time up
	// to MaxDelay before being forwarded.
	Delay    float64
	MaxDelay time.Duration
	// Cut forwards a random part of the chunk, then closes both sides.
	Cut float64
	// Reset forwards a random part of the chunk, then resets both sides
	// (RST).
	Reset float64
	// Garble replaces the first 4 bytes of a chunk that starts an HTTP
	// answer ("HTTP/") with junk: the client gets something that is not
	// HTTP, as a TLS client gets a record that does not verify.
	Garble float64
	// GarbleRequests garbles requests too (a method). The server answers
	// those 400, which no TLS connection could make it do.
	GarbleRequests bool
}

// Counts is what the proxy did. Cut and Reset count connections a fault
// ended (both directions may draw one for the same connection).
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

const (
	faultNone = iota
	faultCut
	faultReset
	faultGarble
)

// route picks the backends to try, in order, and a random source for the
// connection's chunks.
func (p *Proxy) route() (*rand.Rand, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := rand.New(rand.NewPCG(p.rnd.Uint64(), p.rnd.Uint64()))
	order := make([]string, 0, len(p.backends))
	for i := range p.backends {
		order = append(order, p.backends[(p.next+i)%len(p.backends)])
	}
	p.next++
	return r, order
}

// decide draws what happens to one chunk.
func (p *Proxy) decide(r *rand.Rand) (delay time.Duration, kind int) {
	p.mu.Lock()
	f := p.faults
	p.mu.Unlock()
	if f.Delay > 0 && r.Float64() < f.Delay && f.MaxDelay > 0 {
		delay = time.Duration(r.Int64N(int64(f.MaxDelay) + 1))
	}
	x := r.Float64()
	switch {
	case x < f.Cut:
		kind = faultCut
	case x < f.Cut+f.Reset:
		kind = faultReset
	case x < f.Cut+f.Reset+f.Garble:
		kind = faultGarble
	}
	return delay, kind
}

var starts = [][]byte{[]byte("HTTP/"), []byte("GET "), []byte("POST "), []byte("PUT "), []byte("DELETE "), []byte("HEAD ")}

func messageStart(b []byte) bool {
	for _, s := range starts {
		if len(b) >= len(s) && string(b[:len(s)]) == string(s) {
			return true
		}
	}
	return false
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
	rnd, order := p.route()
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
	var once sync.Once
	// end closes both sides, once, counting the fault (faultCut or
	// faultReset, which closes with RST) that did it before anything can
	// see the close: a connection both directions ended in the same
	// instant counts one cut or reset.
	end := func(fault int) {
		once.Do(func() {
			switch fault {
			case faultCut:
				p.cut.Add(1)
			case faultReset:
				p.reset.Add(1)
			}
			if fault == faultReset {
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
	var rmu sync.Mutex // rnd is shared by both directions
	draw := func() (time.Duration, int, int) {
		rmu.Lock()
		defer rmu.Unlock()
		d, k := p.decide(rnd)
		return d, k, rnd.IntN(1 << 30)
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn, up bool) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		for {
			k, err := src.Read(buf)
			if k > 0 {
				chunk := buf[:k]
				delay, kind, x := draw()
				if delay > 0 {
					p.delayed.Add(1)
					time.Sleep(delay)
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
				switch kind {
				case faultGarble:
					p.mu.Lock()
					req := p.faults.GarbleRequests
					p.mu.Unlock()
					if messageStart(chunk) && (!up || req) {
						for i := range 4 {
							chunk[i] = 0xff ^ byte((x>>(i*5))&31)
						}
						p.garbled.Add(1)
					}
				case faultCut, faultReset:
					if w := x % k; w > 0 {
						dst.Write(chunk[:w])
					}
					end(kind)
					return
				}
				if _, werr := dst.Write(chunk); werr != nil {
					end(faultNone)
					return
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					if tc, ok := dst.(*net.TCPConn); ok {
						tc.CloseWrite()
						return
					}
				}
				end(faultNone)
				return
			}
		}
	}
	go pipe(backend, client, true)
	go pipe(client, backend, false)
	<-done
	<-done
	end(faultNone)
}
