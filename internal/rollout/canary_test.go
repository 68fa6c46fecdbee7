package rollout

import "testing"

// The cause named in a refusal is the innermost exception under MSM's log
// line (as the lab's real MSM 2.3.2 logged it), not the wrapper.
func TestDeserializeCause(t *testing.T) {
	for name, c := range map[string]struct{ log, want string }{
		"real MSM trace": {`03-Dec-2026 14:42:55.436 WARNING [http-nio-8080-exec-3] de.javakaffee.web.msm.MemcachedSessionService.loadFromMemcached Could not deserialize session with id 405E-n2.t58 from memcached, session will be purged from storage.
	de.javakaffee.web.msm.TranscoderDeserializationException: Caught IOException decoding data
		at de.javakaffee.web.msm.JavaSerializationTranscoder.deserializeAttributes(JavaSerializationTranscoder.java:150)
		at java.base/java.lang.Thread.run(Thread.java:840)
	Caused by: java.io.InvalidClassException: shop.Cart; local class incompatible: stream classdesc serialVersionUID = -799, local class serialVersionUID = 1
		at java.base/java.io.ObjectStreamClass.initNonProxy(ObjectStreamClass.java:597)
		... 30 more
03-Dec-2026 14:42:56.001 INFO [main] org.apache.catalina.startup.Catalina.start Server startup`,
			"java.io.InvalidClassException: shop.Cart; local class incompatible: stream classdesc serialVersionUID = -799, local class serialVersionUID = 1"},
		"no trace": {"WARNING Could not deserialize session with id x from memcached, session will be purged from storage.\nINFO next record",
			"WARNING Could not deserialize session with id x from memcached, session will be purged from storage."},
		"nothing logged": {"", ""},
	} {
		if got := deserializeCause(c.log); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
}
