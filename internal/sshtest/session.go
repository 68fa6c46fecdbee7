package sshtest

import (
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// serveSession handles one session channel: "env" requests are collected,
// then one "exec" or "subsystem sftp" request decides what the channel is.
// Shells and ptys are refused: the code under test must not need them.
func (s *Server) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var env []string
	for req := range reqs {
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &kv) != nil {
				req.Reply(false, nil)
				continue
			}
			env = append(env, kv.Name+"="+kv.Value)
			req.Reply(true, nil)
		case "exec":
			var p struct{ Command string }
			if ssh.Unmarshal(req.Payload, &p) != nil {
				req.Reply(false, nil)
				continue
			}
			s.mu.Lock()
			s.cmds = append(s.cmds, p.Command)
			s.mu.Unlock()
			if !s.auth.holdExec {
				req.Reply(true, nil)
			}
			s.runExec(ch, reqs, p.Command, env)
			return
		case "subsystem":
			var p struct{ Name string }
			if ssh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			s.runSFTP(ch, reqs)
			return
		default:
			req.Reply(false, nil)
		}
	}
}

// runExec runs command with /bin/sh -c in its own process group, so that a
// closed channel or dropped connection kills the whole command tree, as
// sshd's SIGHUP would.
func (s *Server) runExec(ch ssh.Channel, reqs <-chan *ssh.Request, command string, env []string) {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Dir = s.home
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		io.WriteString(ch.Stderr(), "sshtest: "+err.Error()+"\n")
		exitStatus(ch, 255)
		return
	}
	if err := cmd.Start(); err != nil {
		io.WriteString(ch.Stderr(), "sshtest: "+err.Error()+"\n")
		exitStatus(ch, 127)
		return
	}
	// Not waited for: a command that never reads stdin must not hang on it.
	go func() {
		io.Copy(stdin, ch)
		stdin.Close()
	}()

	done := make(chan struct{})
	go func() {
		pgid := cmd.Process.Pid
		for {
			select {
			case <-done:
				return
			case req, ok := <-reqs:
				if !ok {
					// Channel or connection gone: nobody can read the
					// output, so stop the command like sshd does.
					syscall.Kill(-pgid, syscall.SIGKILL)
					return
				}
				if req.Type == "signal" {
					var p struct{ Signal string }
					if ssh.Unmarshal(req.Payload, &p) == nil {
						if sig, ok := signalByName[p.Signal]; ok {
							syscall.Kill(-pgid, sig)
						}
					}
				}
				req.Reply(false, nil)
			}
		}
	}()
	cmd.Wait()
	close(done)

	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		if name, ok := nameBySignal[ws.Signal()]; ok {
			ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
				Signal     string
				CoreDumped bool
				Error      string
				Lang       string
			}{Signal: name}))
			return
		}
		exitStatus(ch, 128+int(ws.Signal()))
		return
	}
	exitStatus(ch, cmd.ProcessState.ExitCode())
}

// runSFTP serves pkg/sftp on the real filesystem, relative paths resolving
// against the home directory.
func (s *Server) runSFTP(ch ssh.Channel, reqs <-chan *ssh.Request) {
	go ssh.DiscardRequests(reqs)
	srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.home))
	if err != nil {
		exitStatus(ch, 255)
		return
	}
	srv.Serve()
	srv.Close()
	exitStatus(ch, 0)
}

var signalByName = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL,
	"TERM": syscall.SIGTERM, "QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2, "PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM,
	"ABRT": syscall.SIGABRT, "SEGV": syscall.SIGSEGV,
}

var nameBySignal = func() map[syscall.Signal]string {
	m := map[syscall.Signal]string{}
	for n, s := range signalByName {
		m[s] = n
	}
	return m
}()
