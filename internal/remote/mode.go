package remote

import "io/fs"

// UnixMode converts a mode to the octal number chmod(1) and stat(1) use.
// Go keeps setuid/setgid/sticky in high bits (fs.ModeSetuid); a play may
// also write the Unix number 0o4755, whose 0o7000 bits Go leaves unused, so
// both spellings are accepted (as pkg/sftp's Chmod does).
func UnixMode(m fs.FileMode) uint32 {
	u := uint32(m & 0o7777)
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// ModeFromUnix is the inverse of UnixMode: stat(1)'s octal number as an
// fs.FileMode with Go's special bits.
func ModeFromUnix(bits uint32) fs.FileMode {
	m := fs.FileMode(bits & 0o777)
	if bits&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if bits&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if bits&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}
