package email

// qpLineMax is the longest line of quoted-printable text (RFC 2045 6.7), "=" of a soft line
// break included; mime/quotedprintable's lineMaxLen.
const qpLineMax = 76

// qpPlain marks the bytes the encoding copies as they are: printable ASCII but '=', space and
// tab (a space or tab that ends a line is escaped after all, by lineEnd).
var qpPlain = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '='
	}
	t[' '], t['\t'] = true, true
	return t
}()

// qpEncoder appends quoted-printable text to a byte slice, byte for byte what a
// mime/quotedprintable.Writer (not Binary) writes for the same input: every email's body goes
// through it, and the Writer, which looks at each byte twice through calls and a line buffer,
// was about a tenth of the notifier's CPU. It copies runs of plain bytes whole.
// FuzzQuotedPrintable holds the two to the same output.
type qpEncoder struct {
	start int  // where the current line starts in the output
	cr    bool // the last byte was a '\r' that ended a line: a '\n' after it adds no break
}

// newQPEncoder starts an encoding at the end of dst.
func newQPEncoder(dst []byte) qpEncoder { return qpEncoder{start: len(dst)} }

// append appends the encoding of p to dst, as a Writer's Write(p) would.
func (e *qpEncoder) append(dst, p []byte) []byte {
	for len(p) > 0 {
		n := 0
		for n < len(p) && qpPlain[p[n]] {
			n++
		}
		for run := p[:n]; len(run) > 0; {
			room := qpLineMax - 1 - (len(dst) - e.start)
			if room == 0 {
				dst = e.softBreak(dst)
				room = qpLineMax - 1
			}
			k := min(room, len(run))
			dst = append(dst, run[:k]...)
			run = run[k:]
			e.cr = false
		}
		if p = p[n:]; len(p) == 0 {
			break
		}
		switch c := p[0]; c {
		case '\r', '\n':
			if e.cr && c == '\n' {
				e.cr = false // the "\n" of a "\r\n" the '\r' already broke the line for
				break
			}
			e.cr = c == '\r'
			dst = e.lineEnd(dst)
			dst = append(dst, '\r', '\n')
			e.start = len(dst)
		default:
			dst = e.escape(dst, c)
		}
		p = p[1:]
	}
	return dst
}

// close ends the encoding, as a Writer's Close does.
func (e *qpEncoder) close(dst []byte) []byte { return e.lineEnd(dst) }

// escape appends c as "=XX", after a soft line break when the line has no room for it.
func (e *qpEncoder) escape(dst []byte, c byte) []byte {
	if qpLineMax-1-(len(dst)-e.start) < 3 {
		dst = e.softBreak(dst)
	}
	const upperhex = "0123456789ABCDEF"
	return append(dst, '=', upperhex[c>>4], upperhex[c&0x0f])
}

func (e *qpEncoder) softBreak(dst []byte) []byte {
	dst = append(dst, '=', '\r', '\n')
	e.start = len(dst)
	return dst
}

// lineEnd escapes a space or tab that ends the line (RFC 2045 6.7 (3)).
func (e *qpEncoder) lineEnd(dst []byte) []byte {
	if len(dst) == e.start {
		return dst
	}
	if c := dst[len(dst)-1]; c == ' ' || c == '\t' {
		return e.escape(dst[:len(dst)-1], c)
	}
	return dst
}
