package inventory

import "fmt"

// maxDepth bounds how deeply an inventory may nest. The deepest real one
// is about 7 levels (hosts[].ssh.bastion.bastion.key_files[]); a
// document nested thousands deep is an attack or an accident, and the
// decoder needs seconds to find out (5 s for 20,000 levels, 21 s for
// 50,000, before it gives up at 10,000 with a line and no column).
const maxDepth = 64

// nestingError is a linear pre-scan of the bytes that refuses a document
// nested deeper than maxDepth at the byte where it got too deep, before
// the decoder sees it. It counts levels as YAML opens them: block levels
// by indentation (a stack, as Python counts them), a compact "- " or "? "
// entry as one level each, and flow levels by "[" and "{". Quoted
// strings, comments and block scalars are skipped. It is an estimate
// that errs towards letting a document through: the decoder still
// decides what the document is.
func nestingError(file string, data []byte) *Error {
	s := nestScan{data: data}
	for s.next() {
		if s.depth() > maxDepth {
			line, col := lineCol(data, s.at)
			return withExcerpt(&Error{File: file, Line: line, Column: col,
				Msg: fmt.Sprintf("YAML syntax: nested more than %d levels deep (an inventory needs fewer than 10)", maxDepth)}, data)
		}
	}
	return nil
}

type nestScan struct {
	data    []byte
	i, at   int   // next byte; the byte that opened the last level
	indents []int // block indentation stack
	compact int   // "- " entries on the current line
	flow    int
	quote   byte // the open quote, across lines
	block   int  // indentation of a block scalar's key line; -1 none
	bol     bool // at the beginning of a line
	plain   bool // inside a plain scalar in block context
	started bool
}

// next advances to the next byte that opens a level; false at the end.
func (s *nestScan) next() bool {
	if !s.started {
		s.started, s.block, s.bol = true, -1, true
	}
	for s.i < len(s.data) {
		if s.bol {
			s.bol = false
			if s.lineStart() {
				return true
			}
			continue
		}
		c := s.data[s.i]
		s.i++
		switch {
		case c == '\n':
			s.bol, s.plain = true, false
		case s.quote != 0:
			if c == '\'' && s.quote == '\'' && s.i < len(s.data) && s.data[s.i] == '\'' {
				s.i++ // '' is a quote inside single quotes
			} else if c == '\\' && s.quote == '"' && s.i < len(s.data) && s.data[s.i] != '\n' {
				s.i++
			} else if c == s.quote {
				s.quote = 0
			}
		case c == '#' && (s.i == 1 || isBlank(s.data[s.i-2])):
			s.skipLine()
		case s.plain:
			s.plain = !(c == ':' && (s.i == len(s.data) || isBlank(s.data[s.i])))
		case (c == '"' || c == '\'') && s.valueStart(s.i-1):
			s.quote = c
		case (c == '[' || c == '{') && (s.flow > 0 || s.valueStart(s.i-1)):
			s.flow++
			s.at = s.i - 1
			return true
		case (c == ']' || c == '}') && s.flow > 0:
			s.flow--
		case (c == '|' || c == '>') && s.flow == 0 && s.valueStart(s.i-1) && s.restIsBlockHeader():
			s.block = 0
			if len(s.indents) > 0 {
				s.block = s.indents[len(s.indents)-1]
			}
			s.skipLine()
		case s.flow == 0 && !isBlank(c):
			// A plain scalar in block context may hold brackets and
			// quotes; it ends at ": " or the line's end.
			s.plain = c != ':' && c != '-' && c != '?' && c != ','
		}
	}
	return false
}

// lineStart handles a line's indentation and compact entries; true when
// it opened a level.
func (s *nestScan) lineStart() bool {
	n := 0
	for s.i+n < len(s.data) && s.data[s.i+n] == ' ' {
		n++
	}
	end := s.i + n
	blank := end >= len(s.data) || s.data[end] == '\n' || s.data[end] == '\r' || s.data[end] == '#'
	switch {
	case s.quote != 0 || s.flow > 0:
		s.i = end // a continuation line: its indentation opens nothing
		return false
	case s.block >= 0 && (blank || n > s.block):
		s.skipLine() // block scalar content
		return false
	case blank:
		s.skipLine()
		return false
	}
	s.block = -1
	for len(s.indents) > 0 && s.indents[len(s.indents)-1] > n {
		s.indents = s.indents[:len(s.indents)-1]
	}
	opened := false
	if len(s.indents) == 0 || s.indents[len(s.indents)-1] < n {
		s.indents = append(s.indents, n)
		s.at, opened = end, true
	}
	s.compact = 0
	for end+1 < len(s.data) && (s.data[end] == '-' || s.data[end] == '?') && isBlank(s.data[end+1]) {
		s.compact++
		s.at, opened = end, true
		end += 2
		for end < len(s.data) && s.data[end] == ' ' {
			end++
		}
		if s.depth() > maxDepth {
			break
		}
	}
	s.i = end
	return opened
}

func (s *nestScan) depth() int { return len(s.indents) + s.compact + s.flow }

// valueStart says whether the byte at j begins a node: the line's first
// non-blank byte, or one after ": ", "- ", "? ", "[", "{" or ",".
func (s *nestScan) valueStart(j int) bool {
	k := j - 1
	for k >= 0 && s.data[k] == ' ' {
		k--
	}
	if k < 0 || s.data[k] == '\n' {
		return true
	}
	switch s.data[k] {
	case '[', '{', ',':
		return true
	case ':', '-', '?':
		return k < j-1 // followed by a blank
	}
	return false
}

// restIsBlockHeader: after "|" or ">", only indentation and chomping
// indicators, blanks and a comment may follow on the line.
func (s *nestScan) restIsBlockHeader() bool {
	for j := s.i; j < len(s.data) && s.data[j] != '\n'; j++ {
		switch c := s.data[j]; {
		case c == '+' || c == '-' || c >= '1' && c <= '9' || c == ' ' || c == '\r':
		case c == '#':
			return true
		default:
			return false
		}
	}
	return true
}

func (s *nestScan) skipLine() {
	for s.i < len(s.data) && s.data[s.i] != '\n' {
		s.i++
	}
	if s.i < len(s.data) {
		s.i++
		s.bol = true
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
