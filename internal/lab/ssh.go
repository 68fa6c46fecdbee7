package lab

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// clientConfig authenticates with the lab key and verifies host keys
// against the lab's known_hosts: a host answering with any other key fails,
// exactly as clusterctl's own transport will.
func clientConfig(keyFile, knownHostsFile string) (*ssh.ClientConfig, error) {
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("lab: key %s: %w", keyFile, err)
	}
	hostKeys, err := knownhosts.New(knownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("lab: known_hosts: %w", err)
	}
	return &ssh.ClientConfig{
		User:              "root",
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   hostKeys,
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519}, // the only kind the hosts have
		Timeout:           3 * time.Second,
	}, nil
}

// dial opens an SSH connection to addr:22, honouring ctx.
func dial(ctx context.Context, addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	target := net.JoinHostPort(addr, "22")
	d := net.Dialer{Timeout: cfg.Timeout}
	conn, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(cfg.Timeout + 5*time.Second))
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, target, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// probe reports whether h's sshd completes a handshake with the pinned
// host key and accepts the lab key.
func probe(ctx context.Context, h Host, cfg *ssh.ClientConfig) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := dial(ctx, h.Address, cfg)
	if err != nil {
		return err
	}
	return c.Close()
}

// waitSSH polls h until probe succeeds or the deadline passes.
func waitSSH(ctx context.Context, h Host, cfg *ssh.ClientConfig, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := probe(ctx, h, cfg)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("lab: %s (%s) did not answer SSH within %s: %v; console log: %s",
				h.Name, h.Address, timeout, err, h.ConsoleLog)
		}
		if !alive(h.PID) {
			return fmt.Errorf("lab: %s: systemd-nspawn exited during boot; console log: %s", h.Name, h.ConsoleLog)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
