package transport

import (
	"fmt"
	"strings"
)

// Error is every error this package returns: one line, prefixed with the
// inventory host name, e.g. "t58: connect 127.0.0.1:2222: connection refused".
type Error struct {
	Host string
	Msg  string
	Err  error // the cause, for errors.Is/As; its text is already in Msg
}

func (e *Error) Error() string { return e.Host + ": " + e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// minRedactLen: shorter secrets are not scrubbed, or every "a" in a message
// would vanish for the password "a". Messages are built never to contain a
// secret anyway; redaction is the second line of defence.
const minRedactLen = 4

// errorf builds an *Error for c's host, scrubbing the login secrets out of
// the text in case a library error ever echoed one.
func (c *Client) errorf(cause error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	for _, s := range c.creds.secrets() {
		if len(s) >= minRedactLen {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	// One line: multi-line library messages are folded.
	msg = strings.TrimSpace(strings.NewReplacer("\r\n", "; ", "\n", "; ", "\r", " ").Replace(msg))
	return &Error{Host: c.cfg.Host, Msg: msg, Err: cause}
}
