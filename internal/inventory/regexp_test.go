package inventory

import "testing"

// What Java's regex accepts is not Go's: Java-only constructs pass (they
// are left to Tomcat), broken patterns and Go-only syntax do not.
func TestJavaRegexp(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{`.*\.(ico|png|gif|jpg|jpeg|css|js|html|txt)$`, true}, // the lab's
		{`^/static/(?!private).*`, true},                      // lookahead: Java only
		{`(a)\1`, true},                                       // back-reference: Java only
		{`a++b`, true},                                        // possessive: Java only
		{`(?<ext>\.png)$`, true},                              // Java's named group
		{`.*\.(ico|png$`, false},                              // unbalanced
		{`*.png`, false},                                      // nothing to repeat
		{`(?P<ext>\.png)$`, false},                            // Go's named group
	} {
		if err := javaRegexp(tc.p); (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}
