package sshtest

import (
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// serveDirectTCPIP handles one "direct-tcpip" channel (what `ssh -L` and
// ssh.Client.Dial open): the server connects to the requested address and
// copies bytes both ways. Only loopback targets are allowed, so a test can
// never make the server reach beyond the machine; the refusal messages are
// OpenSSH's, so clients see what a real sshd would send.
func (s *Server) serveDirectTCPIP(nc ssh.NewChannel) {
	var p struct {
		Host       string
		Port       uint32
		OriginAddr string
		OriginPort uint32
	}
	if err := ssh.Unmarshal(nc.ExtraData(), &p); err != nil {
		nc.Reject(ssh.ConnectionFailed, "malformed direct-tcpip request")
		return
	}
	target := net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port)))
	s.mu.Lock()
	s.fwds = append(s.fwds, target)
	s.mu.Unlock()
	if s.auth.noForward {
		nc.Reject(ssh.Prohibited, "open failed")
		return
	}
	if ip := net.ParseIP(p.Host); ip == nil || !ip.IsLoopback() {
		nc.Reject(ssh.Prohibited, "sshtest forwards to loopback addresses only")
		return
	}
	tc, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		msg := err.Error()
		if oe, ok := err.(*net.OpError); ok && oe.Err != nil {
			msg = oe.Err.Error()
			if se, ok := oe.Err.(interface{ Unwrap() error }); ok && se.Unwrap() != nil {
				msg = se.Unwrap().Error()
			}
		}
		// OpenSSH capitalises strerror: "connect failed: Connection refused".
		msg = strings.ToUpper(msg[:min(1, len(msg))]) + msg[min(1, len(msg)):]
		nc.Reject(ssh.ConnectionFailed, "connect failed: "+msg)
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		tc.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		io.Copy(tc, ch)
		// The client is done sending (or gone): pass the EOF on, and give
		// the target a few seconds to finish its answer, so a target that
		// ignores half-closes cannot keep this goroutine (and Close) waiting.
		tc.(*net.TCPConn).CloseWrite()
		tc.SetReadDeadline(time.Now().Add(5 * time.Second))
	}()
	go func() {
		defer wg.Done()
		io.Copy(ch, tc)
		ch.CloseWrite()
	}()
	wg.Wait()
	tc.Close()
	ch.Close()
}
