package lab

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A descriptor inherited without close-on-exec (flock(1)'s lock, say) is
// not handed on to the processes the lab starts.
func TestInheritedDescriptorsAreNotHandedOn(t *testing.T) {
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0) // no O_CLOEXEC, as a parent's fd
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	child := func() []string {
		out, err := exec.Command("sh", "-c", "ls /proc/$$/fd").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Fields(string(out))
	}
	has := func(fds []string) bool {
		for _, f := range fds {
			if f == strconv.Itoa(fd) {
				return true
			}
		}
		return false
	}
	if !has(child()) {
		t.Skipf("fd %d did not reach the child even without the fix: this test cannot tell", fd)
	}
	closeInheritedFDs()
	if has(child()) {
		t.Errorf("fd %d still reaches the lab's child processes", fd)
	}
}
