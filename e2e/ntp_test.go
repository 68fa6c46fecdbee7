//go:build e2e

package e2e

import (
	"encoding/binary"
	"net"
	"testing"
	"time"
)

// ntpServer answers NTP client requests on addr (the lab bridge's side on
// this machine) with this machine's clock, as a stratum-2 server: a time
// source outside the inventory, for cluster.ntp_servers. It is the least
// of RFC 5905 that chrony accepts (mode 4, the client's transmit time
// echoed as origin, small root delay and dispersion).
func ntpServer(t *testing.T, addr string) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatalf("NTP server on %s: %v", addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 48 || buf[0]&0x7 != 3 { // only client requests
				continue
			}
			recv := time.Now()
			out := make([]byte, 48)
			out[0] = 0<<6 | 4<<3 | 4                        // leap 0, version 4, mode server
			out[1] = 2                                      // stratum
			out[2] = buf[2]                                 // the client's poll
			out[3] = 0xec                                   // precision 2^-20 s
			binary.BigEndian.PutUint32(out[4:], 1<<10)      // root delay ~15 ms
			binary.BigEndian.PutUint32(out[8:], 1<<10)      // root dispersion ~15 ms
			copy(out[12:16], net.IPv4(10, 250, 0, 1).To4()) // reference id
			putNTPTime(out[16:], recv.Add(-time.Minute))    // reference time
			copy(out[24:32], buf[40:48])                    // origin = client's transmit
			putNTPTime(out[32:], recv)
			putNTPTime(out[40:], time.Now())
			pc.WriteTo(out, from)
		}
	}()
}

func putNTPTime(b []byte, t time.Time) {
	const epochOffset = 2208988800 // 1900 -> 1970
	secs := uint64(t.Unix()) + epochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	binary.BigEndian.PutUint64(b, secs<<32|frac)
}
