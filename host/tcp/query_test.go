package tcp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuery: a caller that is no member asks one question and gets Answer's reply; a
// transport without Answer closes the connection; members' traffic is unaffected.
func TestQuery(t *testing.T) {
	a := start(t, 1, func(c *Config) { c.Answer = func(q []byte) []byte { return append([]byte("re:"), q...) } })
	b := start(t, 2, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := Query(ctx, a.addr(), nil, []byte("members"))
	require.NoError(t, err)
	assert.Equal(t, "re:members", string(got))

	_, err = Query(ctx, b.addr(), nil, []byte("members"))
	assert.Error(t, err)

	require.NoError(t, b.SetPeer(1, a.addr()))
	require.True(t, b.Send(1, []byte("hi")))
	require.Eventually(t, func() bool { return a.in.has(2, "hi") }, 5*time.Second, 5*time.Millisecond)
}
