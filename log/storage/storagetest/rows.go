package storagetest

import (
	"fmt"
	"testing"

	"github.com/pledgelog/pledgelog/log"
)

// rowKeys are in bytewise order, which is neither the order of their lengths
// nor, past 0x7f, that of signed bytes.
var rowKeys = [][]byte{
	{}, {0}, {0, 0}, {0, 1}, {1}, []byte("a"), []byte("ab"), []byte("b"),
	{0x7f}, {0x80}, {0xff}, {0xff, 0}, {0xff, 0xff},
}

func row(table string, key []byte, value string) log.Row {
	return log.Row{Table: table, Key: key, Value: []byte(value)}
}

func rowsOf(table string, keys ...[]byte) []log.Row {
	rows := make([]log.Row, len(keys))
	for i, k := range keys {
		rows[i] = row(table, k, fmt.Sprintf("value %x", k))
	}
	return rows
}

func wantRows(t *testing.T, st log.Storage, table string, start, end []byte, limit int, want []log.Row) {
	t.Helper()
	got, err := st.Rows(t.Context(), table, start, end, limit)
	call := fmt.Sprintf("Rows(%q, %s, %s, %d)", table, short(start), short(end), limit)
	if err := matchRows(call, got, err, want); err != nil {
		t.Error(err)
	}
}

func testRows(t *testing.T, st log.Storage) {
	c := &chain{st: st}
	var u log.Update
	for i := range rowKeys { // committed out of order
		u.Rows = append(u.Rows, rowsOf("t", rowKeys[(i*5)%len(rowKeys)])...)
	}
	c.commit(t, 1, u)
	k := rowKeys
	tests := []struct {
		start, end []byte
		limit      int
		want       [][]byte
	}{
		{nil, nil, 100, k},
		{nil, nil, 3, k[:3]},
		{nil, nil, 0, nil},
		{[]byte{}, nil, 100, k},
		{nil, []byte{}, 100, nil}, // end is not nil: no key is below it
		{nil, []byte{0}, 100, k[:1]},
		{[]byte{0}, []byte{1}, 100, k[1:4]},
		{[]byte{0, 0}, []byte{0, 1}, 100, k[2:3]},
		{[]byte("a"), []byte("b"), 100, k[5:7]},
		{[]byte("ab"), nil, 2, k[6:8]},
		{[]byte("aa"), []byte("ab\x00"), 100, k[6:7]},
		{[]byte{0x80}, nil, 100, k[9:]},
		{[]byte{0xff}, []byte{0xff, 0}, 100, k[10:11]},
		{[]byte{0xff, 0xff}, nil, 100, k[12:]},
		{[]byte{0xff, 0xff, 0}, nil, 100, nil},
		{[]byte("b"), []byte("a"), 100, nil},
		{[]byte("a"), []byte("a"), 100, nil},
	}
	for _, tt := range tests {
		wantRows(t, st, "t", tt.start, tt.end, tt.limit, rowsOf("t", tt.want...))
	}
	t.Run("Updates", func(t *testing.T) { testRowUpdates(t, c) })
}

// testRowUpdates checks overwrites and deletes, applied in order.
func testRowUpdates(t *testing.T, c *chain) {
	c.commit(t, 2, log.Update{Rows: []log.Row{
		row("t", []byte("a"), "new a"),
		{Table: "t", Key: []byte("ab"), Delete: true},
		{Table: "t", Key: []byte("zz"), Delete: true}, // never stored
		row("t", []byte("c"), "c"),
		{Table: "t", Key: []byte("c"), Delete: true},
		{Table: "t", Key: []byte("d"), Delete: true},
		row("t", []byte("d"), "d"),
		{Table: "t", Key: []byte("e")}, // an empty value is a value
		row("t", []byte{0}, "first"),
		row("t", []byte{0}, "second"),
	}})
	old := rowsOf("t", rowKeys...)
	want := []log.Row{
		old[0], row("t", []byte{0}, "second"), old[2], old[3], old[4],
		row("t", []byte("a"), "new a"), old[7],
		row("t", []byte("d"), "d"), {Table: "t", Key: []byte("e")},
	}
	want = append(want, old[8:]...)
	wantRows(t, c.st, "t", nil, nil, 100, want)
}

// testTables checks that tables are apart, even where a layout joining table
// and key naively would mix them: table "a" key "b1" against table "ab" key
// "1", or table "a" key "\x00x" against table "a\x00" key "x".
func testTables(t *testing.T, st log.Storage) {
	tables := map[string][]log.Row{
		"a":     rowsOf("a", []byte{}, []byte{0, 'x'}, []byte("b1"), []byte{0xff}, []byte{0xff, 0xff}),
		"ab":    rowsOf("ab", []byte{}, []byte("1")),
		"a\x00": rowsOf("a\x00", []byte{}, []byte("x")),
		"a\xff": rowsOf("a\xff", []byte{}, []byte{0xff}),
		"b":     rowsOf("b", []byte("1")),
		"":      rowsOf("", []byte("ab1"), []byte{0xff}),
	}
	var u log.Update
	for _, rows := range tables {
		u.Rows = append(u.Rows, rows...)
	}
	(&chain{st: st}).commit(t, 1, u)
	for table, rows := range tables {
		wantRows(t, st, table, nil, nil, 100, rows)
	}
	a := tables["a"]
	wantRows(t, st, "a", []byte("b"), nil, 100, a[2:])
	wantRows(t, st, "a", []byte{0xff}, nil, 100, a[3:])
	wantRows(t, st, "a", []byte{0xff, 0xff, 0xff}, nil, 100, nil)
	wantRows(t, st, "a", nil, []byte{0, 'y'}, 100, a[:2])
	wantRows(t, st, "ab", []byte("2"), nil, 100, nil)
	wantRows(t, st, "c", nil, nil, 100, nil)
	wantRows(t, st, "A", nil, nil, 100, nil)
}
