package tcp

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// Query asks the transport listening on addr one question and returns its Config.Answer.
// It is for callers that are not (yet) members, such as a member joining a running
// cluster that must learn its ID and the member table: the connection opens with a hello
// from ID 0 to ID 0, carries one frame each way and closes. With tlsCfg set it presents
// the caller's certificate, as a peer would.
func Query(ctx context.Context, addr string, tlsCfg *tls.Config, query []byte) ([]byte, error) {
	d := &net.Dialer{}
	var conn net.Conn
	var err error
	if tlsCfg == nil {
		conn, err = d.DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	out := AppendFrame(nil, hello{}.appendTo(nil))
	if _, err := conn.Write(AppendFrame(out, query)); err != nil {
		return nil, err
	}
	answer, err := NewReader(conn, DefaultMaxFrame).Next()
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return answer, err
}
