package checker

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMultiKeyVerdicts(t *testing.T) {
	tests := []struct {
		name    string
		events  []string
		want    Verdict
		keys    int      // partitions checked
		illegal []string // partitions named in IllegalKeys
	}{
		{
			name: "mget after a txn sees all of it",
			events: []string{
				"0 invoke txn _ k0=a,k1=b 10", "0 ok txn _ k0=a,k1=b 20",
				"1 invoke mget _ k0,k1 30", "1 ok mget _ a,b 40",
			},
			want: Linearizable, keys: 1,
		},
		{
			name: "concurrent mgets see none or all of a txn",
			events: []string{
				"0 invoke txn _ k0=a,k1=b 10",
				"1 invoke mget _ k0,k1 11", "1 ok mget _ _,_ 12",
				"2 invoke mget _ k1,k0 13", "2 ok mget _ b,a 14",
				"0 ok txn _ k0=a,k1=b 20",
			},
			want: Linearizable, keys: 1,
		},
		{
			name: "mget sees half of a txn",
			events: []string{
				"0 invoke txn _ k0=a,k1=b 10",
				"1 invoke mget _ k0,k1 11", "1 ok mget _ a,_ 12",
				"0 ok txn _ k0=a,k1=b 20",
			},
			want: Illegal, keys: 1, illegal: []string{"k0,k1"},
		},
		{
			name: "gets see half of a txn in a forbidden order",
			events: []string{
				"0 invoke txn _ k0=a,k1=b 10",
				"1 invoke get k1 _ 11", "1 ok get k1 b 12", // the txn took effect by 12
				"2 invoke get k0 _ 13", "2 ok get k0 _ 14", // but k0 is still absent
				"0 ok txn _ k0=a,k1=b 20",
			},
			want: Illegal, keys: 1, illegal: []string{"k0,k1"},
		},
		{
			name: "single-key ops on a txn's keys",
			events: []string{
				"0 invoke put k0 x 1", "0 ok put k0 x 2",
				"0 invoke txn _ k0=a,k1=b 10", "0 ok txn _ k0=a,k1=b 20",
				"1 invoke cas k1 b|c 30", "1 ok cas k1 b|c 40",
				"2 invoke delete k0 _ 50", "2 ok delete k0 _ 60",
				"3 invoke mget _ k0,k1 70", "3 ok mget _ _,c 80",
			},
			want: Linearizable, keys: 1,
		},
		{
			name: "components are checked apart",
			events: []string{
				"0 invoke txn _ k0=a,k1=b 10", "0 ok txn _ k0=a,k1=b 20",
				"1 invoke put k2 c 30", "1 ok put k2 c 40",
				"2 invoke get k2 _ 50", "2 ok get k2 _ 60", // lost write, on k2 alone
			},
			want: Illegal, keys: 2, illegal: []string{"k2"},
		},
		{
			name: "an indefinite txn may take effect, all at once",
			events: []string{
				"0 invoke txn _ k0=a,k1=b 10", "0 info txn _ k0=a,k1=b 20",
				"1 invoke mget _ k0,k1 30", "1 ok mget _ _,_ 40",
				"2 invoke get k1 _ 50", "2 ok get k1 b 60",
				"3 invoke mget _ k0,k1 70", "3 ok mget _ a,b 80",
			},
			want: Linearizable, keys: 1,
		},
		{
			name: "an indefinite txn cannot take effect by halves",
			events: []string{
				"0 invoke txn _ k0=a,k1=b 10", "0 info txn _ k0=a,k1=b 20",
				"1 invoke get k1 _ 50", "1 ok get k1 b 60",
				"2 invoke mget _ k0,k1 70", "2 ok mget _ _,b 80",
			},
			want: Illegal, keys: 1, illegal: []string{"k0,k1"},
		},
		{
			name: "an unobserved indefinite txn is dropped",
			events: []string{
				"0 invoke txn _ k0=a,k1=b 10", "0 info txn _ k0=a,k1=b 20",
				"1 invoke get k0 _ 50", "1 ok get k0 _ 60",
			},
			want: Linearizable, keys: 1,
		},
		{
			name: "an indefinite mget is dropped",
			events: []string{
				"0 invoke mget _ k0,k1 10", "0 info mget _ nonsense 20",
			},
			want: Linearizable, keys: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Check("kv", hist(t, tc.events...), Options{})
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Verdict, res.Violation)
			assert.Equal(t, tc.keys, res.Keys)
			assert.Equal(t, tc.illegal, res.IllegalKeys)
		})
	}
}

func TestMultiKeyViolationText(t *testing.T) {
	res, err := Check("kv", hist(t,
		"0 invoke put k0 x 1", "0 ok put k0 x 2",
		"0 invoke txn _ k0=a,k1=b 10", "0 ok txn _ k0=a,k1=b 20",
		"1 invoke mget _ k0,k1 30", "1 ok mget _ a,_ 40",
	), Options{})
	require.NoError(t, err)
	require.Equal(t, Illegal, res.Verdict)
	assert.Equal(t, `key "k0,k1": no linearization; longest linearizable prefix has 2 of 3 ops; `+
		`cannot place: process 1 mget k0 k1 -> "a" null [30, 40] (state was {k0="a", k1="b"})`, res.Violation)
}

func TestMultiKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		events      []string
		msg         string
	}{
		{"register has no txn", "register", []string{"0 invoke txn _ k0=a,k1=b 10"}, `model register has no operation "txn"`},
		{"txn needs pairs", "kv", []string{"0 invoke txn _ k0,k1 10"}, "txn writes are [key, value]"},
		{"txn touches a key twice", "kv", []string{"0 invoke txn _ k0=a,k0=b 10"}, `txn touches key "k0" twice`},
		{"txn writes strings", "kv", []string{"0 invoke txn _ k0=_,k1=b 10"}, "txn writes are [key, value] strings"},
		{"mget needs a list", "kv", []string{"0 invoke mget _ k0 10"}, "mget needs a non-empty list"},
		{"mget returns one value per key", "kv", []string{"0 invoke mget _ k0,k1 10", "0 ok mget _ a, 20"}, "mget must return a list of 2 values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(tc.model, hist(t, tc.events...), Options{})
			require.ErrorIs(t, err, ErrBadOp)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
}

// A visualisation of a multi-key check draws; its states are whole partitions.
func TestMultiKeyHTML(t *testing.T) {
	res, err := Check("kv", hist(t, "0 invoke txn _ k0=a,k1=b 10", "0 ok txn _ k0=a,k1=b 20"), Options{})
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, res.WriteHTML(&b))
	assert.Contains(t, b.String(), "txn k0=a k1=b")
	assert.Contains(t, b.String(), "{k0=a, k1=b}")
}
